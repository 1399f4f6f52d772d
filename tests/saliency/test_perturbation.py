"""Perturbation saliency: masks, batching, and XAITK interop."""
import chainer
import numpy as np
import pytest
from chainer import functions as F
from chainer import links as L
from chainerrl import policies, v_function
from chainerrl.agents import a3c
from scipy.ndimage import gaussian_filter
from xaitk_saliency.impls.gen_classifier_conf_sal.occlusion_scoring import \
    OcclusionScoring
from xaitk_saliency.impls.gen_classifier_conf_sal.rise_scoring import \
    RISEScoring
from xaitk_saliency.impls.perturb_image.rise import RISEGrid
from xaitk_saliency.impls.perturb_image.sliding_window import SlidingWindow
from xaitk_saliency.utils.masking import occlude_image_batch

from agents import load_agent

from models.networks import A3CFF
from models.recurrent_state import restore
from saliency import (ActionSaliency, BlurredWindowSaliency,
                      GreydanusSaliency, XAITKSaliency, make_saliency)
from saliency.greydanus import blob_masks
from saliency.scoring import masked_inputs


class TinyConvModel(chainer.Chain, a3c.A3CModel):
    """(1, 2, 12, 12) -> conv 3x3/2 -> 4x5x5 -> 8 -> (3 logits, value)."""

    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.conv = L.Convolution2D(2, 4, 3, stride=2, initial_bias=0.1)
            self.fc = L.Linear(100, 8)
            self.pi = policies.FCSoftmaxPolicy(8, 3)
            self.v = v_function.FCVFunction(8)

    def pi_and_v(self, state):
        h = F.relu(self.fc(F.relu(self.conv(state))))
        return self.pi(h), self.v(h)


def _state(shape=(1, 2, 12, 12), seed=0):
    return np.random.RandomState(seed).rand(*shape).astype(np.float32)


def test_blob_mask_by_hand():
    # A blob far from the borders equals the normalised sum of Gaussian
    # kernels centred on the 5 pixels of the radius-1 disk.
    masks, grid = blob_masks((21, 21), radius=2, stride=10)
    assert grid == (3, 3) and masks.shape == (9, 21, 21)
    yy, xx = np.mgrid[:21, :21]
    disk = [(10, 10), (9, 10), (11, 10), (10, 9), (10, 11)]
    by_hand = sum(np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 2.0 ** 2))
                  for y, x in disk)
    by_hand /= by_hand.max()
    np.testing.assert_allclose(masks[4], by_hand, atol=2e-3)
    assert masks[4][10, 10] == pytest.approx(1.0)
    assert masks.max() == pytest.approx(1.0)


def test_blob_grid_on_the_agent_input():
    masks, grid = blob_masks((84, 84))
    assert grid == (17, 17) and masks.shape == (289, 84, 84)
    # Away from the borders (where the reflected blur shifts the peak
    # inwards, as in the paper's code) each blob peaks at its grid point.
    for y, x in [(40, 40), (20, 45), (60, 25)]:
        index = (y // 5) * 17 + x // 5
        assert np.unravel_index(masks[index].argmax(), (84, 84)) == (y, x)


def test_perturbed_pixels_go_where_the_mask_says():
    state = _state()[0]
    keep = np.ones((2, 12, 12), dtype=np.float32)
    keep[0, 2:5, 3:7] = 0.0
    keep[1, 8, 8] = 0.25
    out = masked_inputs(state, keep, np.float32(-1.0))
    changed = (out != state[None]).any(axis=1)
    np.testing.assert_array_equal(changed, keep < 1)
    np.testing.assert_allclose(out[0, :, 2:5, 3:7], -1.0)
    np.testing.assert_allclose(out[1, :, 8, 8],
                               0.25 * state[:, 8, 8] + 0.75 * -1.0,
                               rtol=1e-6)


def one_mask_at_a_time_greydanus(model, state, radius, stride, blur_sigma):
    """Reference: the paper's loop, one perturbed image per forward pass."""
    image = state[0]
    blurred = gaussian_filter(image, sigma=(0, blur_sigma, blur_sigma))
    blobs, grid = blob_masks(image.shape[1:], radius, stride)
    with chainer.no_backprop_mode():
        policy, value = model.pi_and_v(state)
        ref_logits, ref_value = policy.logits.array[0], value.array[0, 0]
        actor, critic = np.zeros(len(blobs)), np.zeros(len(blobs))
        for k, blob in enumerate(blobs):
            perturbed = image * (1 - blob) + blurred * blob
            p, v = model.pi_and_v(perturbed[None].astype(np.float32))
            actor[k] = 0.5 * ((p.logits.array[0] - ref_logits) ** 2).sum()
            critic[k] = 0.5 * (v.array[0, 0] - ref_value) ** 2
    return actor.reshape(grid), critic.reshape(grid)


@pytest.mark.parametrize('chunk', [1, 4, 64])
def test_batched_greydanus_equals_the_one_mask_loop(chunk):
    model = TinyConvModel()
    state = _state()
    method = GreydanusSaliency(radius=2, stride=3, blur_sigma=1, chunk=chunk)
    result = method(model, state)
    actor_grid, critic_grid = one_mask_at_a_time_greydanus(
        model, state, 2, 3, 1)
    # Grid point (i, j) sits at pixel (3 i, 3 j).
    np.testing.assert_allclose(result.actor[::3, ::3], actor_grid,
                               rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(result.critic[::3, ::3], critic_grid,
                               rtol=1e-4, atol=1e-9)
    assert result.actor.shape == (12, 12)
    # Between grid points the map interpolates; no zero border.
    np.testing.assert_allclose(result.actor[0, 1],
                               (2 * actor_grid[0, 0] + actor_grid[0, 1]) / 3,
                               rtol=1e-4)
    assert result.actor[-1, -1] == pytest.approx(actor_grid[-1, -1],
                                                 rel=1e-4)


@pytest.mark.parametrize('perturber,generator', [
    (SlidingWindow(window_size=(3, 3), stride=(2, 2)), OcclusionScoring()),
    (RISEGrid(n=20, s=3, p1=0.5, seed=1, threads=0), RISEScoring(p1=0.5)),
])
def test_xaitk_path_equals_xaitk_itself(perturber, generator):
    model = TinyConvModel()
    state = _state()
    result = XAITKSaliency(perturber, generator, chunk=7)(model, state)
    # XAITK's own way, one occluded image at a time.
    image = state[0].transpose(1, 2, 0)
    masks = perturber(image)
    occluded = occlude_image_batch(image, masks)
    with chainer.no_backprop_mode():
        p, v = model.pi_and_v(state)
        ref_logits, ref_value = p.logits.array[0], v.array[0]
        logits, values = [], []
        for img in occluded:
            p, v = model.pi_and_v(img.transpose(2, 0, 1)[None])
            logits.append(p.logits.array[0])
            values.append(v.array[0])
    actor = generator(ref_logits, np.array(logits), masks)
    critic = generator(ref_value, np.array(values), masks)
    np.testing.assert_allclose(result.actor, np.abs(actor).sum(axis=0),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.critic, np.abs(critic[0]),
                               rtol=1e-4, atol=1e-6)


def _one_at_a_time(model, image, perturbed_images):
    """Logits and values of the input, then of each perturbed image, one
    forward pass each."""
    with chainer.no_backprop_mode():
        p, v = model.pi_and_v(image[None])
        ref = (p.logits.array[0].astype(np.float64), float(v.array[0, 0]))
        outputs = []
        for img in perturbed_images:
            p, v = model.pi_and_v(img[None].astype(np.float32))
            outputs.append((p.logits.array[0].astype(np.float64),
                            float(v.array[0, 0])))
    return ref, outputs


def _softmax(logits):
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _sarfa_by_hand(ref_logits, logits):
    """SARFA of the most probable action for one perturbed input, written
    out term by term (Puri et al. 2020)."""
    p, q = _softmax(ref_logits), _softmax(logits)
    a = int(np.argmax(p))
    dp = p[a] - q[a]
    if dp <= 0:
        return 0.0
    others = [i for i in range(len(p)) if i != a]
    p_rest = np.array([p[i] for i in others]) / sum(p[i] for i in others)
    q_rest = np.array([q[i] for i in others]) / sum(q[i] for i in others)
    kl = sum(x * np.log(x / y) for x, y in zip(p_rest, q_rest))
    k = 1 / (1 + kl)
    return 2 * k * dp / (k + dp)


@pytest.mark.parametrize('score', ['sarfa', 'logprob'])
def test_action_saliency_equals_the_one_blob_loop(score):
    np.random.seed(0)                  # Chainer's initialisers draw from it
    model = TinyConvModel()
    state = _state()
    # Scale the policy up so that blobs move the most probable action.
    model.pi.model.output.W.array *= 20
    result = ActionSaliency(score, radius=2, stride=3, blur_sigma=1,
                            chunk=5)(model, state)
    image = state[0]
    blurred = gaussian_filter(image, sigma=(0, 1, 1))
    blobs, grid = blob_masks(image.shape[1:], 2, 3)
    (ref_logits, ref_value), outputs = _one_at_a_time(
        model, image, [image * (1 - b) + blurred * b for b in blobs])
    best = int(np.argmax(ref_logits))
    actor, critic, change, drop = [], [], [], []
    for logits, value in outputs:
        log_change = (np.log(_softmax(ref_logits)[best])
                      - np.log(_softmax(logits)[best]))
        actor.append(_sarfa_by_hand(ref_logits, logits) if score == 'sarfa'
                     else abs(log_change))
        change.append(log_change)
        critic.append(max(ref_value - value, 0.0))
        drop.append(ref_value - value)
    assert sum(a > 0 for a in actor) >= 5       # the check is not vacuous
    for got, want in ((result.actor, actor), (result.critic, critic),
                      (result.signed['actor'], change),
                      (result.signed['critic'], drop)):
        # Grid point (i, j) sits at pixel (3 i, 3 j).
        np.testing.assert_allclose(got[::3, ::3],
                                   np.reshape(want, grid), rtol=1e-3,
                                   atol=1e-6)
    assert (result.actor >= 0).all() and (result.critic >= 0).all()
    # The critic's map is the positive part of the signed one (at the grid
    # points; in between both are interpolated).
    np.testing.assert_allclose(result.critic[::3, ::3], np.maximum(
        result.signed['critic'][::3, ::3], 0), atol=1e-7)


@pytest.mark.parametrize('perturber', [
    SlidingWindow(window_size=(3, 3), stride=(2, 2)),
    RISEGrid(n=12, s=3, p1=0.5, seed=1, threads=0)])
def test_blurred_window_saliency_equals_the_one_mask_loop(perturber):
    model = TinyConvModel()
    state = _state()
    result = BlurredWindowSaliency(perturber, blur_sigma=1, chunk=4)(
        model, state)
    image = state[0]
    blurred = gaussian_filter(image, sigma=(0, 1, 1))
    masks = perturber(np.ascontiguousarray(image.transpose(1, 2, 0)))
    (ref_logits, ref_value), outputs = _one_at_a_time(
        model, image, [k * image + (1 - k) * blurred for k in masks])
    policy = _softmax(ref_logits)
    actor_num = np.zeros(image.shape[1:])
    critic_num = np.zeros(image.shape[1:])
    weight = np.zeros(image.shape[1:])
    for k, (logits, value) in zip(masks, outputs):
        score = sum(policy[a] * abs(logits[a] - ref_logits[a])
                    for a in range(len(policy)))
        for y in range(k.shape[0]):
            for x in range(k.shape[1]):
                actor_num[y, x] += (1 - k[y, x]) * score
                critic_num[y, x] += (1 - k[y, x]) * abs(value - ref_value)
                weight[y, x] += 1 - k[y, x]
    touched = weight > 0
    np.testing.assert_allclose(result.actor[touched],
                               actor_num[touched] / weight[touched],
                               rtol=1e-3, atol=1e-7)
    np.testing.assert_allclose(result.critic[touched],
                               critic_num[touched] / weight[touched],
                               rtol=1e-3, atol=1e-7)
    assert (result.actor[~touched] == 0).all()


def test_masks_made_once_per_shape_give_the_same_maps():
    model = TinyConvModel()
    fresh = XAITKSaliency(RISEGrid(n=20, s=3, p1=0.5, seed=1, threads=0),
                          RISEScoring(p1=0.5))
    cached = XAITKSaliency(RISEGrid(n=20, s=3, p1=0.5, seed=1, threads=0),
                           RISEScoring(p1=0.5), same_masks=True)
    for seed in (0, 1):                       # two frames, one mask set
        state = _state(seed=seed)
        np.testing.assert_array_equal(cached(model, state).actor,
                                      fresh(model, state).actor)
    assert len(cached._masks) == 1


@pytest.mark.parametrize('name', ['greydanus', 'occlusion', 'rise', 'sarfa',
                                  'logprob', 'occlusion-blur', 'rise-blur',
                                  'guided-all', 'gradient-all'])
def test_methods_on_the_real_network(name):
    model = A3CFF(6)
    state = _state((1, 4, 84, 84))
    result = make_saliency(name, chunk=64)(model, state)
    assert result.actor.shape == result.critic.shape == (84, 84)
    assert result.actor.dtype == np.float32
    assert (result.actor >= 0).all() and result.actor.max() > 0
    with chainer.no_backprop_mode():
        policy, value = model.pi_and_v(state)
    np.testing.assert_allclose(result.action_probs,
                               policy.all_prob.array[0], rtol=1e-5)


def test_bad_chunk_and_state():
    with pytest.raises(ValueError, match='chunk'):
        GreydanusSaliency(chunk=0)
    with pytest.raises(ValueError, match=r'\(1, C, H, W\)'):
        GreydanusSaliency()(TinyConvModel(), _state()[0])


def test_recurrent_perturbation_equals_a_one_mask_reference(trained_lstm):
    model = load_agent(trained_lstm)[0].model
    rng = np.random.RandomState(0)
    state = rng.rand(1, 1, 80, 80).astype(np.float32)
    recurrent_state = rng.normal(size=512).astype(np.float32) * 0.5
    method = GreydanusSaliency(stride=20, chunk=5)
    result = method(model, state, recurrent_state)
    # Reference: each perturbed frame alone, the state set explicitly.
    blurred = gaussian_filter(state[0], sigma=(0, 3, 3))
    blobs, grid = blob_masks((80, 80), 5, 20)
    with chainer.no_backprop_mode():
        restore(model, recurrent_state)
        p, v = model.pi_and_v(state)
        ref_logits, ref_value = p.logits.array[0], v.array[0, 0]
        actor = np.zeros(len(blobs))
        for k, blob in enumerate(blobs):
            restore(model, recurrent_state)
            x = (state[0] * (1 - blob) + blurred * blob)[None]
            p, v = model.pi_and_v(x.astype(np.float32))
            actor[k] = 0.5 * ((p.logits.array[0] - ref_logits) ** 2).sum()
    # Scores are squared logit differences of ~3e-3: float32 rounding of
    # the logits (ONNX Runtime and Chainer sum in other orders) is ~1e-4 of
    # them.
    np.testing.assert_allclose(result.actor[::20, ::20], actor.reshape(grid),
                               rtol=1e-3, atol=1e-10)
    assert result.value == pytest.approx(float(ref_value), rel=1e-5)
    # From another state the maps differ: the state really is used.
    other = method(model, state, np.zeros(512, dtype=np.float32))
    assert not np.allclose(other.actor, result.actor)
