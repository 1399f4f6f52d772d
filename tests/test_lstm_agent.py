"""The LSTM-CNN agent: training, recurrent state in saliency and rollouts."""
import collections

import chainer
import numpy as np
import pytest
from chainer import gradient_check
from chainer import links as L
from chainerrl import recurrent

import saliency_app
import train_a3c_gym
from conftest import run_launcher
from env_gym_chainer import FramePreprocessor, GymEnvironment
from guided_relu import guided_elu
from recurrent_state import restore, snapshot
from rollout import load_rollout
from saliency import GreydanusSaliency, make_saliency
from saliency.perturbation import blob_masks
from video import read_mp4


def test_compat_shim_restores_collections_iterable():
    # chainerrl.recurrent tests isinstance(state, collections.Iterable);
    # without the shim every recurrent A3C worker dies on Python >= 3.10.
    assert collections.Iterable is collections.abc.Iterable
    h = chainer.Variable(np.ones((1, 3), dtype=np.float32))
    y = h * 2
    recurrent.unchain_backward((y, y))
    assert y.creator is None


def test_guided_elu_values_in_both_modes():
    x = np.array([-1.0, 0.5, 2.0, -0.2], dtype=np.float32)
    gy = np.array([1.0, -1.0, 2.0, -3.0], dtype=np.float32)
    slope = np.where(x > 0, 1.0, np.exp(x))
    for train, expected in ((True, gy * slope),
                            (False, gy * slope * (gy > 0))):
        v = chainer.Variable(x.copy())
        with chainer.using_config('train', train):
            y = guided_elu(v)
            y.grad = gy.copy()
            y.backward()
        np.testing.assert_allclose(y.array, np.where(x > 0, x, np.expm1(x)),
                                   rtol=1e-6)
        np.testing.assert_allclose(v.grad, expected, rtol=1e-6)


def test_guided_elu_numerical_gradient_in_train_mode():
    rng = np.random.RandomState(0)
    x = rng.uniform(-2, 2, (3, 5))
    x[np.abs(x) < 0.1] = 0.5
    with chainer.using_config('train', True):
        gradient_check.check_backward(guided_elu, x, rng.normal(size=x.shape),
                                      eps=1e-4, atol=1e-5, rtol=1e-5)


def test_lstm_network_shapes_and_preprocessing():
    model = train_a3c_gym.A3CLSTMCNN(4)
    policy, value = model.pi_and_v(np.zeros((2, 1, 80, 80), np.float32))
    assert policy.logits.shape == (2, 4) and value.shape == (2, 1)
    assert model.lstm.state_size == 256
    assert [c.W.shape for c in model.convs] == [(32, 1, 3, 3)] + [
        (32, 32, 3, 3)] * 3
    rgb = np.zeros((210, 160, 3), dtype=np.uint8)
    rgb[35:195, :, 0] = 240                 # mean over RGB: 80
    rgb[:35] = 255                          # cropped away
    out = train_a3c_gym.ARCHS['LSTM'].make_preprocessor()(rgb)
    assert out.shape == (80, 80) and (out == 80).all()


def test_frame_buffer_length_conflicts_with_lstm(capsys):
    rc = train_a3c_gym.main(['1', '--arch', 'LSTM', '--demo',
                             '--frame-buffer-length', '4'])
    assert rc == 2
    assert 'sees 1 frame(s)' in capsys.readouterr().err


def _agent(checkpoint, n_actions=4):
    args = train_a3c_gym.build_parser().parse_args(['1', '--arch', 'LSTM'])
    agent = train_a3c_gym.make_agent(args, n_actions)
    agent.load(checkpoint)
    return agent


def _play(agent, steps, seed=4):
    env = GymEnvironment('BreakoutNoFrameskip-v4', frame_buffer_length=1,
                         preprocessor=FramePreprocessor(80, (35, 195),
                                                        'mean'), seed=seed)
    obs = env.reset()
    np.random.seed(7)
    actions = []
    with chainer.using_config('train', False):
        for _ in range(steps):
            a = int(agent.act(obs))
            actions.append(a)
            obs, _, done, _ = env.step(a)
            if done:
                break
    agent.stop_episode()
    return actions


@pytest.mark.parametrize('method', ['guided', 'greydanus'])
def test_saliency_leaves_the_actions_and_state_alone(trained_lstm, method):
    plain = _play(_agent(trained_lstm), 50)
    agent = _agent(trained_lstm)
    agent.saliency = make_saliency(method, chunk=128)
    assert _play(agent, 50) == plain
    assert len(set(plain)) > 1


def test_recorded_state_is_the_one_each_frame_was_seen_with(trained_lstm,
                                                            tmp_path):
    path = tmp_path / 'rollout.npz'
    rc = run_launcher([1, '--arch', 'LSTM', '--env',
                       'BreakoutNoFrameskip-v4', '--demo', '--load',
                       trained_lstm, '--eval-n-runs', 1, '--max-episode-len',
                       25, '--saliency', 'none', '--record-rollout', path])
    assert rc == 0
    arrays, meta = load_rollout(str(path))
    assert arrays['recurrent_states'].shape == (25, 512)
    # Replay step by step from a fresh state.
    model = _agent(trained_lstm).model
    model.reset_state()
    with chainer.no_backprop_mode():
        for t in range(25):
            np.testing.assert_allclose(snapshot(model),
                                       arrays['recurrent_states'][t],
                                       rtol=1e-5, atol=1e-6)
            obs = train_a3c_gym.phi(arrays['observations'][t])[None]
            policy, value = model.pi_and_v(obs)
            np.testing.assert_allclose(policy.logits.array[0],
                                       arrays['logits'][t], rtol=1e-4,
                                       atol=1e-5)
    assert not np.allclose(arrays['recurrent_states'][0],
                           arrays['recurrent_states'][10])
    # The frame-range app replays those states.
    out = tmp_path / 'app'
    assert saliency_app.main(['--rollout', str(path), '--start-frame', '5',
                              '--end-frame', '9', '--method', 'greydanus',
                              '--out', str(out)]) == 0
    assert read_mp4(out / 'actor.mp4').shape[0] == 5
    assert read_mp4(out / 'critic.mp4').shape[0] == 5


def test_recurrent_perturbation_equals_a_one_mask_reference(trained_lstm):
    model = _agent(trained_lstm).model
    rng = np.random.RandomState(0)
    state = rng.rand(1, 1, 80, 80).astype(np.float32)
    recurrent_state = rng.normal(size=512).astype(np.float32) * 0.5
    method = GreydanusSaliency(stride=20, chunk=5)
    result = method(model, state, recurrent_state)
    # Reference: each perturbed frame alone, the state set explicitly.
    from scipy.ndimage import gaussian_filter
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
    np.testing.assert_allclose(result.actor[::20, ::20], actor.reshape(grid),
                               rtol=1e-4, atol=1e-10)
    assert result.value == pytest.approx(float(ref_value), rel=1e-5)
    # From another state the maps differ: the state really is used.
    other = method(model, state, np.zeros(512, dtype=np.float32))
    assert not np.allclose(other.actor, result.actor)


def test_recurrent_gradient_uses_the_given_state(trained_lstm):
    model = _agent(trained_lstm).model
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


def test_snapshot_and_restore_round_trip():
    model = train_a3c_gym.A3CLSTMCNN(3)
    assert (snapshot(model) == 0).all()        # no state yet reads as zeros
    vec = np.arange(512, dtype=np.float32)
    restore(model, vec, batch_size=3)
    assert model.lstm.c.shape == (3, 256)
    np.testing.assert_array_equal(snapshot(model), vec)
    assert snapshot(L.Linear(2, 2)) is None
