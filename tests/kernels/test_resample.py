"""Resampling matrices: by hand, and rows that sum to 1."""
import numpy as np

from kernels.resample import area_matrix, bilinear_matrix, grid_matrix, resize


def test_area_matrix_by_hand():
    np.testing.assert_allclose(area_matrix(4, 2),
                               [[.5, .5, 0, 0], [0, 0, .5, .5]])
    # 3 -> 2: each output covers 1.5 input pixels.
    np.testing.assert_allclose(area_matrix(3, 2),
                               [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]],
                               rtol=1e-6)
    np.testing.assert_allclose(area_matrix(210, 84).sum(axis=1), 1,
                               rtol=1e-5)


def test_bilinear_matrix():
    np.testing.assert_allclose(bilinear_matrix(2, 4),
                               [[1, 0], [.75, .25], [.25, .75], [0, 1]])
    np.testing.assert_allclose(bilinear_matrix(84, 420).sum(axis=1), 1,
                               rtol=1e-6)


def test_grid_matrix_by_hand():
    w = grid_matrix(3, 2, 6)     # points at pixels 0, 2, 4
    np.testing.assert_allclose(w, [[1, 0, 0], [.5, .5, 0], [0, 1, 0],
                                   [0, .5, .5], [0, 0, 1], [0, 0, 1]])


def test_resize_applies_both_matrices_and_caches_them():
    image = np.arange(12, dtype=np.float32).reshape(3, 4)
    cache = {}
    out = resize(image, (6, 2), area_matrix, cache)
    np.testing.assert_allclose(
        out, area_matrix(3, 6) @ image @ area_matrix(4, 2).T, rtol=1e-6)
    assert list(cache) == [(area_matrix, (3, 4), (6, 2))]
    np.testing.assert_allclose(resize(image, (6, 2), area_matrix, cache),
                               out)
    # A constant image stays constant, whatever the sizes.
    np.testing.assert_allclose(resize(np.full((84, 84), 7.0), (420, 320)),
                               7.0, rtol=1e-5)
