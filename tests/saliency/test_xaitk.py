"""saliency/xaitk.py with stand-in perturbers and scorers (hand values)."""
import numpy as np
import pytest

from saliency.xaitk import BlurredWindowSaliency, XAITKSaliency


def halves(image):
    """Two masks: keep the left half, keep the right half."""
    h, w = image.shape[:2]
    keep = np.ones((2, h, w), np.float32)
    keep[0, :, w // 2:] = 0
    keep[1, :, :w // 2] = 0
    return keep


class Recorder:
    """A scorer that returns fixed signed maps and remembers its call."""

    def __init__(self, maps):
        self.maps, self.calls = maps, []

    def __call__(self, ref, scores, keep):
        self.calls.append((np.asarray(ref), np.asarray(scores), keep))
        return self.maps[:len(np.atleast_1d(ref))]


def test_masks_come_from_the_perturber_on_hwc_and_fill_is_constant():
    method = XAITKSaliency(halves, None, fill=0.25)
    keep, fill = method.masks_and_fill(np.zeros((3, 4, 6), np.float32))
    assert keep.shape == (2, 4, 6) and fill == np.float32(0.25)
    with pytest.raises(ValueError, match='expected'):
        XAITKSaliency(lambda image: np.ones((2, 3, 3)), None) \
            .masks_and_fill(np.zeros((1, 4, 6), np.float32))


def test_same_masks_calls_the_perturber_once_per_shape():
    calls = []

    def counting(image):
        calls.append(image.shape)
        return halves(image)
    method = XAITKSaliency(counting, None, same_masks=True)
    for _ in range(3):
        method.masks_and_fill(np.zeros((1, 4, 6), np.float32))
    assert calls == [(4, 6, 1)]


def test_actor_sums_absolute_class_maps_critic_takes_its_one_class():
    signed = np.array([[[1.0, -2.0]], [[-0.5, 0.5]]])       # (2, 1, 2)
    method = XAITKSaliency(halves, Recorder(signed))
    actor, critic = method.maps(np.zeros(2), 0.5, np.zeros((2, 2)),
                                np.zeros(2), None)
    np.testing.assert_allclose(actor, [[1.5, 2.5]])
    np.testing.assert_allclose(critic, [[1.0, 2.0]])
    ref, scores, _ = method.generator.calls[1]
    assert ref.shape == (1,) and scores.shape == (2, 1)   # the value


def test_blurred_windows_average_raw_changes_over_the_masks():
    method = BlurredWindowSaliency(halves, blur_sigma=1)
    state = np.zeros((1, 2, 4), np.float32)
    state[0, :, 0] = 1.0
    keep, fill = method.masks_and_fill(state)
    assert fill.shape == state.shape and 0 < fill[0, 0, 1] < 1   # blurred
    # Policy (0.5, 0.5); the first input (right half perturbed) moves the
    # scores by (2, 0): actor 1; the second by (0, 4): actor 2. Values
    # change by 3 and 0.
    actor, critic = method.maps(np.zeros(2), 1.0,
                                np.array([[2.0, 0.0], [0.0, 4.0]]),
                                np.array([4.0, 1.0]), keep)
    np.testing.assert_allclose(actor, [[2, 2, 1, 1]] * 2)
    np.testing.assert_allclose(critic, [[0, 0, 3, 3]] * 2)
