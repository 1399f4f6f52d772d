"""The NumPy forward of the ICLR-ACER network against the Chainer model."""
import chainer
import numpy as np
import pytest
from chainer import functions as F
from scipy.ndimage import gaussian_filter
from xaitk_saliency.impls.perturb_image.rise import RISEGrid
from xaitk_saliency.impls.perturb_image.sliding_window import SlidingWindow

from iclr_acer_link import ICLRACERHead
from saliency.fast_forward import fast_forward_for
from saliency.perturbation import blob_masks, masked_inputs
from agents import A3CFF


def _model(seed=0):
    np.random.seed(seed)
    return A3CFF(6)


def test_equals_the_chainer_model():
    model = _model()
    x = np.random.RandomState(1).rand(5, 4, 84, 84).astype(np.float32)
    scores, values = fast_forward_for(model)(x)
    with chainer.no_backprop_mode():
        policy, value = model.pi_and_v(x)
    np.testing.assert_allclose(scores, policy.logits.array, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(values, value.array[:, 0], rtol=1e-4,
                               atol=1e-5)


def _keep_masks(kind):
    if kind == 'greydanus':
        return 1 - blob_masks((84, 84))[0][::7]
    image = np.zeros((84, 84, 4), dtype=np.float32)
    if kind == 'sliding':
        return SlidingWindow((5, 5), (9, 9))(image).astype(np.float32)
    return RISEGrid(n=12, s=8, p1=0.5, seed=0, threads=0)(image).astype(
        np.float32)


@pytest.mark.parametrize('kind', ['greydanus', 'sliding', 'rise'])
def test_windowed_first_layer_equals_the_full_pass(kind):
    model = _model()
    fast = fast_forward_for(model)
    state = np.random.RandomState(2).rand(4, 84, 84).astype(np.float32)
    fill = gaussian_filter(state, sigma=(0, 3, 3))
    keep = _keep_masks(kind)
    windowed = fast.masked(state, keep, fill)
    full = fast(masked_inputs(state, keep, fill))
    np.testing.assert_allclose(windowed[0], full[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(windowed[1], full[1], rtol=1e-5, atol=1e-6)
    # An all-keep mask scores exactly as the unperturbed input.
    same = fast.masked(state, np.ones((1, 84, 84), np.float32), fill)
    np.testing.assert_allclose(same[0][0], fast(state[None])[0][0],
                               rtol=1e-5, atol=1e-6)


def test_models_it_cannot_run_fall_back():
    model = _model()
    assert fast_forward_for(model) is not None
    model.head.activation = F.elu
    assert fast_forward_for(model) is None
    assert fast_forward_for(ICLRACERHead()) is None
