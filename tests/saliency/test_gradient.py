"""Guided and vanilla input gradients against independent computations."""
import os

import chainer
import numpy as np
import pytest
from chainer import links as L
from chainerrl import policies, v_function
from chainerrl.agents import a3c

from agents import load_agent

from models.networks import A3CFF, ARCHS
from guided_relu import guided_relu
from models.recurrent_state import restore, state_size
from saliency import GradientSaliency, make_saliency


class TinyModel(chainer.Chain, a3c.A3CModel):
    """input (1, 2, 3, 3) -> 18 -> 5 -> 4 -> (3 logits, value)."""

    def __init__(self, seed=0):
        super().__init__()
        rng = np.random.RandomState(seed)
        with self.init_scope():
            self.l1 = L.Linear(18, 5, initialW=rng.normal(size=(5, 18)),
                               initial_bias=rng.normal(size=5) * 0.1)
            self.l2 = L.Linear(5, 4, initialW=rng.normal(size=(4, 5)),
                               initial_bias=rng.normal(size=4) * 0.1)
            self.pi = policies.FCSoftmaxPolicy(4, 3)
            self.v = v_function.FCVFunction(4)

    def pi_and_v(self, state):
        h = guided_relu(self.l2(guided_relu(self.l1(state))))
        return self.pi(h), self.v(h)


def numpy_input_gradients(model, x, guided):
    """Hand-written forward and backward pass of TinyModel in NumPy."""
    params = {k: v.array.astype(np.float64)
              for k, v in model.namedparams()}
    W1, b1 = params['/l1/W'], params['/l1/b']
    W2, b2 = params['/l2/W'], params['/l2/b']
    Wp, bp = params['/pi/model/output/W'], params['/pi/model/output/b']
    Wv = params['/v/model/output/W']
    a1 = np.maximum(W1 @ x.ravel() + b1, 0)
    a2 = np.maximum(W2 @ a1 + b2, 0)
    logits = Wp @ a2 + bp

    def backward(g_a2):
        g_h2 = g_a2 * (a2 > 0) * ((g_a2 > 0) if guided else 1)
        g_a1 = W2.T @ g_h2
        g_h1 = g_a1 * (a1 > 0) * ((g_a1 > 0) if guided else 1)
        return (W1.T @ g_h1).reshape(x.shape)

    return backward(Wp[int(np.argmax(logits))]), backward(Wv[0])


def _input(seed=1):
    return np.random.RandomState(seed).uniform(
        0, 1, (1, 2, 3, 3)).astype(np.float32)


@pytest.mark.parametrize('guided', [True, False])
def test_maps_equal_a_hand_written_backward_pass(guided):
    model = TinyModel()
    x = _input()
    result = GradientSaliency(guided=guided)(model, x)
    actor_grad, critic_grad = numpy_input_gradients(model, x[0], guided)
    # The maps are |gradient| of the newest (last) frame.
    np.testing.assert_allclose(result.actor, np.abs(actor_grad[-1]),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.critic, np.abs(critic_grad[-1]),
                               rtol=1e-4, atol=1e-6)
    assert result.actor.shape == (3, 3) and result.actor.dtype == np.float32


@pytest.mark.parametrize('guided', [True, False])
def test_all_frames_map_sums_every_frame_of_the_backward_pass(guided):
    model = TinyModel()
    x = _input()
    result = GradientSaliency(guided=guided, frames='all')(model, x)
    actor_grad, critic_grad = numpy_input_gradients(model, x[0], guided)
    np.testing.assert_allclose(result.actor, np.abs(actor_grad).sum(axis=0),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.critic,
                               np.abs(critic_grad).sum(axis=0),
                               rtol=1e-4, atol=1e-6)
    # Not just the newest frame: the first frame's gradient is in it.
    assert (result.actor > np.abs(actor_grad[-1]) + 1e-6).any()
    with pytest.raises(ValueError, match='frames'):
        GradientSaliency(frames='oldest')


def _two_path_model():
    """A TinyModel with two paths to the chosen logit and the value: pixel
    (0, 0) of the newest frame through a positive path, pixel (0, 1)
    through a path whose gradient turns negative at the second layer."""
    model = TinyModel()
    for p in model.params():
        p.array[...] = 0
    model.l1.W.array[0, 9] = 1.0        # newest frame's pixel (0, 0)
    model.l1.W.array[1, 10] = 1.0       # newest frame's pixel (0, 1)
    model.l1.b.array[:2] = 0.1          # both units active
    model.l2.W.array[0, 0] = 1.0
    model.l2.W.array[1, 1] = 1.0
    model.l2.W.array[0, 1] = 0.5        # pixel (0, 1) also reaches unit 0
    model.l2.b.array[:] = 0.1
    model.pi.model.output.W.array[0, 0] = 1.0     # logit 0 reads unit 0
    model.pi.model.output.W.array[0, 1] = -2.0    # minus unit 1: negative
    model.pi.model.output.b.array[0] = 1.0        # action 0 is chosen
    model.v.model.output.W.array[0, 0] = 1.0
    return model


def test_guided_drops_the_negative_paths_that_vanilla_keeps():
    model = _two_path_model()
    x = _input()
    guided = GradientSaliency(guided=True)(model, x)
    vanilla = GradientSaliency(guided=False)(model, x)
    # By hand, for logit 0 (every unit on the paths is active): vanilla
    # d/dx00 = 1, d/dx01 = 0.5 * 1 (through unit 0) + (-2) * 1 (through
    # unit 1) = -1.5; guided backprop passes only positive gradients, so
    # unit 1's -2 is dropped at layer 2 and d/dx01 = 0.5.
    expected = numpy_input_gradients(model, x, guided=True)[0][0, -1]
    plain = numpy_input_gradients(model, x, guided=False)[0][0, -1]
    assert expected[0, 0] == pytest.approx(1.0)
    assert expected[0, 1] == pytest.approx(0.5)
    assert plain[0, 1] == pytest.approx(-1.5)
    np.testing.assert_allclose(np.abs(expected), guided.actor, atol=1e-6)
    np.testing.assert_allclose(np.abs(plain), vanilla.actor, atol=1e-6)
    # Every other pixel has no path at all.
    assert not np.delete(guided.actor.ravel(), [0, 1]).any()


def test_vanilla_gradient_equals_finite_differences():
    model = TinyModel(seed=3)
    x = _input(seed=4).astype(np.float64)
    model.to_cpu()
    for p in model.params():
        p.array = p.array.astype(np.float64)
    result = GradientSaliency(guided=False)(model, x)
    eps = 1e-6

    def outputs(inp):
        with chainer.no_backprop_mode():
            policy, value = model.pi_and_v(inp)
        return policy.logits.array[0], value.array[0, 0]

    logits, _ = outputs(x)
    best = int(np.argmax(logits))
    for i in range(3):
        for j in range(3):
            up, down = x.copy(), x.copy()
            up[0, -1, i, j] += eps
            down[0, -1, i, j] -= eps
            (lu, vu), (ld, vd) = outputs(up), outputs(down)
            assert abs((lu[best] - ld[best]) / (2 * eps)) == pytest.approx(
                result.actor[i, j], rel=1e-5, abs=1e-8)
            assert abs((vu - vd) / (2 * eps)) == pytest.approx(
                result.critic[i, j], rel=1e-5, abs=1e-8)


@pytest.mark.parametrize('guided', [True, False])
def test_critic_map_does_not_contain_the_actor_gradient(guided):
    model = TinyModel()
    x = _input()
    result = GradientSaliency(guided=guided)(model, x)
    actor_grad, critic_grad = numpy_input_gradients(model, x[0], guided)
    np.testing.assert_allclose(result.critic, np.abs(critic_grad[-1]),
                               rtol=1e-4, atol=1e-6)
    # The original's bug: the critic's backward() ran onto the input
    # gradient the actor's had left, so its map was |actor + critic|.
    buggy = np.abs(actor_grad[-1] + critic_grad[-1])
    assert np.abs(result.critic - buggy).max() > 0.1 * buggy.max()


def test_on_the_real_network_shapes_and_policy():
    model = A3CFF(6)
    x = np.random.RandomState(0).rand(1, 4, 84, 84).astype(np.float32)
    result = make_saliency('guided')(model, x)
    assert result.actor.shape == result.critic.shape == (84, 84)
    assert (result.actor >= 0).all() and (result.critic >= 0).all()
    assert result.actor.max() > 0 and result.critic.max() > 0
    with chainer.no_backprop_mode():
        policy, value = model.pi_and_v(x)
    np.testing.assert_allclose(result.action_probs,
                               policy.all_prob.array[0], rtol=1e-5)
    assert result.value == pytest.approx(float(value.array[0, 0]), rel=1e-5)


def test_unknown_method_name():
    with pytest.raises(ValueError, match='unknown saliency method'):
        make_saliency('telepathy')


def test_recurrent_gradient_uses_the_given_state(trained_lstm):
    model = load_agent(trained_lstm)[0].model
    rng = np.random.RandomState(1)
    state = rng.rand(1, 1, 80, 80).astype(np.float32)
    recurrent_state = rng.normal(size=512).astype(np.float32) * 0.5
    result = make_saliency('gradient')(model, state, recurrent_state)
    restore(model, recurrent_state)
    x = chainer.Variable(state)
    with chainer.using_config('train', True):
        policy, value = model.pi_and_v(x)
        value[0, 0].backward()
    np.testing.assert_allclose(result.critic, np.abs(x.grad[0, -1]),
                               rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize('guided,frames', [(True, 'newest'),
                                           (False, 'newest'), (True, 'all')])
def test_engine_backward_of_the_real_network_equals_chainer(guided, frames):
    model = load_agent(os.path.join(os.path.dirname(__file__), '..', '..',
                                    'examples', 'mygym', 'pretrained',
                                    'pong'))[0].model
    x = np.random.RandomState(5).rand(1, 4, 84, 84).astype(np.float32)
    method = GradientSaliency(guided=guided, frames=frames)
    with chainer.using_config('train', False):
        got, policy, value = method._via_engine(model, x, None)
        want, want_policy, want_value = method._chainer(model, x, None)
    if frames == 'newest':                   # only the last frame's
        want = want[:, -1:]
    assert got.shape == want.shape == (2, 1 if frames == 'newest' else 4,
                                       84, 84)
    scale = np.abs(want).max()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)
    assert (np.abs(want) > 1e-3 * scale).mean() > 0.05   # not vacuous
    # The policy is Chainer's forward of the input alone, exactly what the
    # agent computes when it acts without saliency.
    with chainer.no_backprop_mode(), chainer.using_config('train', False):
        alone, alone_value = model.pi_and_v(x)
    np.testing.assert_array_equal(policy.logits.array, alone.logits.array)
    assert value == float(alone_value.array[0, 0])
    np.testing.assert_allclose(policy.logits.array,
                               want_policy.logits.array, rtol=1e-5)
    assert value == pytest.approx(want_value, rel=1e-5)


@pytest.mark.parametrize('arch', ['GRU', 'LSTM', 'ChainerRLFF',
                                  'ChainerRLLSTM', 'FFSoftmaxMini',
                                  'NatureAC', 'NatureQ', 'NatureAC2'])
@pytest.mark.parametrize('guided', [True, False])
def test_every_network_kind_backpropagates_as_chainer(arch, guided):
    """The backward read from each network's declared structure (cell and
    dense layers in NumPy, convolutions in ONNX Runtime) gives Chainer's
    input gradients from a given recurrent state, guided and vanilla."""
    rng = np.random.RandomState(6)
    model = ARCHS[arch].make_model(5, ARCHS[arch].frames or 4)
    for param in model.params():
        param.array[...] = rng.normal(scale=0.15, size=param.shape)
    model.weights_changed()
    channels = model.structure.convs[0].W.shape[1]
    x = rng.rand(1, channels, model.input_size,
                 model.input_size).astype(np.float32)
    flat = (rng.normal(size=state_size(model)) * 0.5).astype(np.float32) \
        if model.recurrent else None
    method = GradientSaliency(guided=guided, frames='all')
    with chainer.using_config('train', False):
        got, policy, value = method._via_engine(model, x, flat)
        want, want_policy, want_value = method._chainer(model, x, flat)
    scale = np.abs(want).max()
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * scale)
    assert (np.abs(want) > 1e-3 * scale).mean() > 0.05   # not vacuous
    np.testing.assert_allclose(policy.logits.array,
                               want_policy.logits.array, rtol=1e-5,
                               atol=1e-6)
    assert value == pytest.approx(want_value, rel=1e-5, abs=1e-6)
