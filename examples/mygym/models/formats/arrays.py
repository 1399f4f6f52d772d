"""What every format's reader shares: checking arrays by name and shape."""
import numpy as np

from models.torch_files import TorchFileError, read_state_dict


class ImportFailure(ValueError):
    """A file that is not an agent of the format asked for."""


def _float32(name, array):
    array = np.asarray(array)
    if array.dtype.kind != 'f':
        raise ImportFailure('array {} is {}, not floating point'.format(
            name, array.dtype))
    if not np.isfinite(array).all():
        raise ImportFailure('array {} holds non-finite values'.format(name))
    return array.astype(np.float32)


def found(state, limit=6):
    """The names ``state`` holds, a few of them, for an error line."""
    names = sorted(state)
    more = len(names) - limit
    return ', '.join(names[:limit]) + (' and {} more'.format(more)
                                       if more > 0 else '')


def expect(state, shapes, what):
    """Check that ``state`` holds exactly the arrays of ``shapes`` (name ->
    shape, None for a size read from the file); returns them as float32.
    ``what`` names the network expected, for the error line."""
    extra = sorted(set(state) - set(shapes))
    missing = sorted(set(shapes) - set(state))
    if extra or missing:
        raise ImportFailure('not {}: {} (the file holds {})'.format(
            what, '; '.join(text for text in (
                'unexpected arrays ' + ', '.join(extra[:4]) if extra else '',
                'missing arrays ' + ', '.join(missing[:4]) if missing
                else '') if text), found(state)))
    out = {}
    for name, shape in shapes.items():
        array = np.asarray(state[name])
        if array.ndim != len(shape) or any(
                want is not None and got != want
                for got, want in zip(array.shape, shape)):
            raise ImportFailure('array {} is {}, expected {}'.format(
                name, array.shape, tuple('n' if k is None else k
                                         for k in shape)))
        out[name] = _float32(name, array)
    return out


def strip_prefix(state, prefix='module.'):
    """``state`` with ``prefix`` taken off every name when every name has
    it (PyTorch's ``DataParallel`` saves ``module.conv1.weight``)."""
    if state and all(name.startswith(prefix) for name in state):
        return {name[len(prefix):]: value for name, value in state.items()}
    return state


def rows(state, name):
    """The first dimension of matrix ``name`` of ``state``, or None."""
    array = state.get(name)
    if array is None or np.ndim(array) != 2:
        return None
    return int(np.shape(array)[0])


def torch_state(path):
    """A PyTorch state dict read without running anything (either of
    PyTorch's formats), ``module.`` prefixes taken off."""
    try:
        return strip_prefix(read_state_dict(path))
    except TorchFileError as e:
        raise ImportFailure('{}: {}'.format(path, e))


def torch_names(path):
    """The names of a PyTorch state dict, or None when ``path`` is not
    one this reader accepts (for :func:`recognise`)."""
    try:
        return set(torch_state(path))
    except (ImportFailure, OSError):
        return None
