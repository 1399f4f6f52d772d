"""What every format's reader shares: checking arrays by name and shape."""
import numpy as np

from common.arrays import names_mismatch, non_finite, shape_mismatch
from models.torch_files import TorchFileError, read_state_dict


class ImportFailure(ValueError):
    """A file that is not an agent of the format asked for."""


def _float32(name, array):
    array = np.asarray(array)
    if array.dtype.kind != 'f':
        raise ImportFailure('array {} is {}, not floating point'.format(
            name, array.dtype))
    problem = non_finite(name, array)
    if problem:
        raise ImportFailure(problem)
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
    mismatch = names_mismatch(state, shapes)
    if mismatch:
        raise ImportFailure('not {}: {} (the file holds {})'.format(
            what, mismatch, found(state)))
    out = {}
    for name, shape in shapes.items():
        problem = shape_mismatch(name, state[name], shape)
        if problem:
            raise ImportFailure(problem)
        out[name] = _float32(name, state[name])
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
