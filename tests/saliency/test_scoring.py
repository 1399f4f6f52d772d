"""saliency/scoring.py: masked inputs, blurred fill, log-softmax."""
import numpy as np
import pytest

from saliency.scoring import (blur_frames, check_scoring, log_softmax,
                              masked_inputs)


def test_masked_inputs_mix_state_and_fill_per_mask():
    state = np.full((2, 2, 2), 10.0, np.float32)
    fill = np.zeros((2, 2, 2), np.float32)
    keep = np.array([[[1, 0], [0.5, 1]], [[0, 0], [0, 0]]], np.float32)
    out = masked_inputs(state, keep, fill)
    assert out.shape == (2, 2, 2, 2) and out.dtype == np.float32
    # Every stacked frame gets the same mask.
    np.testing.assert_array_equal(out[0, 0], [[10, 0], [5, 10]])
    np.testing.assert_array_equal(out[0, 1], [[10, 0], [5, 10]])
    np.testing.assert_array_equal(out[1], fill)


def test_blur_frames_blurs_each_frame_alone():
    state = np.zeros((2, 9, 9), np.float32)
    state[0, 4, 4] = 1.0
    blurred = blur_frames(state, 1.0)
    assert blurred[1].max() == 0                    # nothing leaks across
    assert blurred[0].sum() == pytest.approx(1.0, abs=1e-4)
    assert blurred[0, 4, 4] == blurred[0].max() < 1.0


def test_log_softmax_by_hand():
    out = log_softmax([[0.0, np.log(3.0)], [1000.0, 1000.0]])
    np.testing.assert_allclose(out, [[np.log(0.25), np.log(0.75)],
                                     [np.log(0.5), np.log(0.5)]])


def test_unknown_scoring_is_refused_in_one_line():
    with pytest.raises(ValueError) as e:
        check_scoring('sideways')
    assert len(str(e.value).splitlines()) == 1
