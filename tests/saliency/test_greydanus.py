"""saliency/greydanus.py: the blobs, and the action scores on hand values."""
import numpy as np
import pytest

from saliency.greydanus import (GreydanusSaliency, blob_masks,
                                chosen_action_change, sarfa)


def test_blobs_sit_on_the_grid_with_peak_one():
    masks, grid = blob_masks((12, 12), radius=2, stride=5)
    assert grid == (3, 3) and masks.shape == (9, 12, 12)
    np.testing.assert_allclose(masks.max(axis=(1, 2)), 1.0)
    # Row-major grid: blob 4 is the point (5, 5); blob 5 is (5, 10).
    assert np.unravel_index(np.argmax(masks[4]), (12, 12)) == (5, 5)
    assert masks[5][5, 10] > masks[5][5, 5]
    # A Gaussian of sigma 2: two sigmas from the centre about e^-2 of it.
    centre = masks[4]
    assert centre[5, 9] == pytest.approx(np.exp(-2), abs=0.05)


def test_chosen_action_change_is_the_drop_of_its_log_probability():
    ref = np.array([2.0, 0.0, 0.0])
    scores = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    log_p = 2 - np.log(np.exp(2) + 2)
    np.testing.assert_allclose(chosen_action_change(ref, scores),
                               [0.0, log_p - np.log(1 / 3)])


def test_sarfa_by_hand():
    ref = np.log(np.array([0.6, 0.3, 0.1]))
    # The best action drops from 0.6 to 0.4; the others keep their ratio
    # (KL 0, specificity 1): 2 * 1 * 0.2 / 1.2.
    same_rest = np.log(np.array([[0.4, 0.45, 0.15]]))
    np.testing.assert_allclose(sarfa(ref, same_rest), [2 * 0.2 / 1.2])
    # A rise of the best action scores 0.
    rise = np.log(np.array([[0.8, 0.15, 0.05]]))
    np.testing.assert_allclose(sarfa(ref, rise), [0.0])
    # The rest reshuffled: specificity 1 / (1 + KL) lowers the score.
    shuffled = np.log(np.array([[0.4, 0.3, 0.3]]))
    ref_rest, new_rest = np.array([0.75, 0.25]), np.array([0.5, 0.5])
    kl = (ref_rest * np.log(ref_rest / new_rest)).sum()
    k = 1 / (1 + kl)
    np.testing.assert_allclose(sarfa(ref, shuffled), [2 * k * 0.2 / (k + 0.2)])


def test_maps_are_half_the_squared_change_spread_over_the_grid():
    method = GreydanusSaliency(radius=2, stride=5)
    keep = method.masks_and_fill(np.zeros((1, 10, 10), np.float32))[0]
    assert keep.shape == (4, 10, 10)
    ref_scores, ref_value = np.array([0.0, 0.0]), 1.0
    scores = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    values = np.array([1.0, 3.0, 1.0, 1.0])
    actor, critic = method.maps(ref_scores, ref_value, scores, values, keep)
    assert actor.shape == critic.shape == (10, 10)
    # At the grid points themselves the map is the blob's own score.
    assert actor[0, 0] == pytest.approx(1.0)      # 0.5 * (1 + 1)
    assert actor[5, 5] == pytest.approx(2.0)      # 0.5 * 4
    assert critic[0, 5] == pytest.approx(2.0)     # 0.5 * (3 - 1) ** 2
    assert critic[5, 5] == pytest.approx(0.0)
