"""The checks every loader makes on arrays it reads from an untrusted
file (checkpoints, imported agents, rollouts), worded once.

Each returns the problem as one phrase, or '' when there is none; the
caller raises its own error type with the file's name in front.
"""
import numpy as np


def names_mismatch(have, want, limit=4):
    """'unexpected arrays ...; missing arrays ...' of names ``have`` beside
    the names ``want``, or ''."""
    extra = sorted(set(have) - set(want))
    missing = sorted(set(want) - set(have))
    return '; '.join(text for text in (
        'unexpected arrays ' + ', '.join(extra[:limit]) if extra else '',
        'missing arrays ' + ', '.join(missing[:limit]) if missing else '')
        if text)


def shape_mismatch(name, array, shape, dtype=None, kind='array'):
    """'array W is float32 (3, 4), expected float32 (4, 4)' when ``array``
    has not ``shape`` (None in it: any size) or ``dtype`` (None: any),
    else ''."""
    array = np.asarray(array)
    fits = array.ndim == len(shape) and all(
        want is None or got == want for got, want in zip(array.shape, shape))
    if fits and (dtype is None or array.dtype == dtype):
        return ''
    shown = tuple('n' if k is None else k for k in shape)
    if dtype is None:
        return '{} {} is {}, expected {}'.format(kind, name, array.shape,
                                                 shown)
    return '{} {} is {} {}, expected {} {}'.format(
        kind, name, array.dtype, array.shape, np.dtype(dtype), shown)


def non_finite(name, array, kind='array'):
    """'array W holds non-finite values' for a floating-point ``array``
    with NaN or infinite values, else ''."""
    array = np.asarray(array)
    if array.dtype.kind == 'f' and not np.isfinite(array).all():
        return '{} {} holds non-finite values'.format(kind, name)
    return ''
