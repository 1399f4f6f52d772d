"""Resampling weights: every resize in the suite is ``R @ image @ C.T``.

Each function returns a float32 matrix ``(n_out, n_in)`` whose rows sum to
1; a 2-D image ``(h, w)`` resized to ``(H, W)`` is
``rows @ image @ cols.T`` with ``rows = f(h, H)`` and ``cols = f(w, W)``.

* :func:`area_matrix`: box filter (downscaling the game frame to the agent's
  input);
* :func:`bilinear_matrix`: linear interpolation with pixel centres aligned
  (saliency maps onto the video frame);
* :func:`grid_matrix`: linear interpolation from values at grid points
  ``0, spacing, 2 * spacing, ...`` (Greydanus' score grid onto the input).
"""
import numpy as np


def _two_point_weights(n_out, n_in, low, high, frac):
    weights = np.zeros((n_out, n_in), dtype=np.float32)
    rows = np.arange(n_out)
    np.add.at(weights, (rows, low), 1 - frac)
    np.add.at(weights, (rows, high), frac)
    return weights


def area_matrix(n_in, n_out):
    """Output pixel ``i`` averages the input interval ``[i*s, (i+1)*s)``,
    ``s = n_in / n_out``, input pixels weighted by their overlap."""
    scale = n_in / n_out
    starts = np.arange(n_out) * scale
    ends = starts + scale
    left = np.arange(n_in)
    overlap = (np.minimum(ends[:, None], left[None, :] + 1)
               - np.maximum(starts[:, None], left[None, :]))
    return (np.clip(overlap, 0, None) / scale).astype(np.float32)


def bilinear_taps(n_in, n_out):
    """The two input pixels of each output pixel and the second's weight,
    ``(low, high, frac)``: output ``i`` is ``(1 - frac) * x[low] + frac *
    x[high]`` (what :func:`bilinear_matrix` holds, for gathers)."""
    src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    low = np.floor(src).astype(int)
    return (low, np.minimum(low + 1, n_in - 1),
            (src - low).astype(np.float32))


def bilinear_matrix(n_in, n_out):
    """Linear interpolation, pixel centres aligned, edges held."""
    return _two_point_weights(n_out, n_in, *bilinear_taps(n_in, n_out))


def grid_matrix(n_points, spacing, size):
    """Values at pixels ``0, spacing, ...`` interpolated onto ``0..size-1``
    (constant beyond the last point): ``(size, n_points)``."""
    pos = np.clip(np.arange(size) / spacing, 0, n_points - 1)
    low = np.floor(pos).astype(int)
    return _two_point_weights(size, n_points, low,
                              np.minimum(low + 1, n_points - 1), pos - low)


def resize(image, shape, kind=bilinear_matrix, cache=None):
    """``image`` ``(h, w)`` resampled to ``shape`` ``(H, W)`` with ``kind``.

    ``cache`` (a dict) keeps the matrices between calls of the same sizes.
    """
    key = (kind, image.shape, tuple(shape))
    matrices = None if cache is None else cache.get(key)
    if matrices is None:
        matrices = (kind(image.shape[0], shape[0]),
                    kind(image.shape[1], shape[1]))
        if cache is not None:
            cache[key] = matrices
    rows, cols = matrices
    return rows @ image @ cols.T
