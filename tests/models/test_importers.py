"""Agents of other code bases, imported: the suite's network computes what
the original network computes, checked against forwards written here."""
import chainer
import chainer.links as L
import numpy as np
import pytest
from chainerrl import links as rl_links
from chainerrl import policies, v_function
from chainerrl.agents import a3c
from chainerrl.recurrent import RecurrentChainMixin

from env_gym_chainer import GymEnvironment
from models import protocol
from models.importers import (PROTOCOLS, ImportFailure, from_greydanus,
                              read_source)
from models.networks import ARCHS
from torch_writer import greydanus_state, save_legacy, save_zip


def _conv(x, weight, bias, stride=2, pad=1):
    """Cross-correlation as PyTorch's Conv2d: ``x`` ``(C, H, W)``."""
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    out_c, in_c, kh, kw = weight.shape
    oh = (x.shape[1] - kh) // stride + 1
    ow = (x.shape[2] - kw) // stride + 1
    out = np.empty((out_c, oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh,
                      j * stride:j * stride + kw]
            out[:, i, j] = np.tensordot(weight, patch, axes=3)
    return out + bias[:, None, None]


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def greydanus_forward(state, frame, hx, cx):
    """visualize_atari's ``NNPolicy.forward`` in NumPy (float64): four
    convolutions with ELU, ``LSTMCell`` (gates ``[i; f; g; o]``), the
    heads. Returns ``(value, logits, hx, cx)``."""
    s = {k: v.astype(np.float64) for k, v in state.items()}
    x = frame[None].astype(np.float64)
    for k in range(1, 5):
        x = _elu(_conv(x, s['conv{}.weight'.format(k)],
                       s['conv{}.bias'.format(k)]))
    gates = (s['lstm.weight_ih'] @ x.reshape(-1) + s['lstm.bias_ih']
             + s['lstm.weight_hh'] @ hx + s['lstm.bias_hh'])
    i, f, g, o = np.split(gates, 4)
    cx = _sigmoid(f) * cx + _sigmoid(i) * np.tanh(g)
    hx = _sigmoid(o) * np.tanh(cx)
    value = s['critic_linear.weight'] @ hx + s['critic_linear.bias']
    logits = s['actor_linear.weight'] @ hx + s['actor_linear.bias']
    return value[0], logits, hx, cx


def _suite_model(arch, n_actions, arrays, frames=1):
    model = ARCHS[arch].make_model(n_actions, frames)
    for name, param in model.namedparams():
        param.array[...] = arrays[name.lstrip('/')]
    return model


def breakout_frames(n=6):
    """Observations of real Breakout frames, made by the Greydanus
    protocol (what an imported agent sees)."""
    played = PROTOCOLS['greydanus']
    env = GymEnvironment('BreakoutNoFrameskip-v4', frame_buffer_length=1,
                         preprocessor=protocol.preprocessor(played), seed=4,
                         **protocol.environment_options(played))
    frames = [env.reset()[0]]
    rng = np.random.RandomState(0)
    for _ in range(n - 1):
        frames.append(env.step(rng.randint(4))[0][0])
    env.close()
    return np.array(frames)


def test_greydanus_logits_value_and_state_are_the_originals():
    state = greydanus_state(np.random.default_rng(0), scale=0.1)
    arch, n_actions, arrays = from_greydanus(state)
    assert (arch, n_actions) == ('LSTM', 4)
    model = _suite_model(arch, n_actions, arrays)
    hx, cx = np.zeros(256), np.zeros(256)
    frames = breakout_frames()
    assert frames.shape == (6, 80, 80) and frames.std() > 0
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for frame in frames:
            x = frame.astype(np.float32) / 255
            value, logits, hx, cx = greydanus_forward(state, x, hx, cx)
            pi, v = model.pi_and_v(x[None, None])
            np.testing.assert_allclose(pi.logits.array[0], logits,
                                       rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(v.array[0, 0], value, rtol=1e-5,
                                       atol=1e-5)
            np.testing.assert_allclose(model.lstm.h.array[0], hx, rtol=1e-5,
                                       atol=1e-5)
            np.testing.assert_allclose(model.lstm.c.array[0], cx, rtol=1e-5,
                                       atol=1e-5)
    # The state moved: the check covered the recurrence, not one step.
    assert np.abs(hx).max() > 0.05


def test_the_gate_order_matters():
    """With PyTorch's gate blocks copied as they are, the outputs differ:
    the reordering is what makes them equal."""
    state = greydanus_state(np.random.default_rng(1), scale=0.2)
    _, _, arrays = from_greydanus(state)
    arrays['1/upward/W'] = state['lstm.weight_ih']
    arrays['1/lateral/W'] = state['lstm.weight_hh']
    arrays['1/upward/b'] = state['lstm.bias_ih'] + state['lstm.bias_hh']
    model = _suite_model('LSTM', 4, arrays)
    x = breakout_frames(1)[0].astype(np.float32) / 255
    _, logits, _, _ = greydanus_forward(state, x, np.zeros(256),
                                        np.zeros(256))
    with chainer.using_config('train', False):
        pi, _ = model.pi_and_v(x[None, None])
    assert np.abs(pi.logits.array[0] - logits).max() > 1e-3


@pytest.mark.parametrize('save', [save_zip, save_legacy])
def test_greydanus_files_of_both_formats_import(tmp_path, save):
    state = greydanus_state(np.random.default_rng(2), n_actions=6)
    path = str(tmp_path / 'strong.40.tar')
    save(path, state)
    arch, n_actions, arrays = read_source('greydanus', path)
    assert (arch, n_actions) == ('LSTM', 6)
    np.testing.assert_array_equal(arrays['0/2/W'], state['conv3.weight'])
    np.testing.assert_array_equal(arrays['2/model/output/b'],
                                  state['actor_linear.bias'])


def test_safetensors_import_as_greydanus(tmp_path):
    from safetensors.numpy import save_file
    state = greydanus_state(np.random.default_rng(3))
    path = str(tmp_path / 'agent.safetensors')
    save_file(dict(state), path)
    _, _, from_file = read_source('safetensors', path)
    _, _, direct = from_greydanus(state)
    assert set(from_file) == set(direct)
    for name in direct:
        np.testing.assert_array_equal(from_file[name], direct[name])
    with open(path, 'r+b') as f:
        f.truncate(200)
    with pytest.raises(ImportFailure, match='cannot read'):
        read_source('safetensors', path)


@pytest.mark.parametrize('change,message', [
    (lambda s: s.update({'conv1.weight': np.zeros((32, 1, 5, 5),
                                                  np.float32)}),
     r'conv1.weight is \(32, 1, 5, 5\), expected \(32, 1, 3, 3\)'),
    (lambda s: s.update({'extra.weight': np.zeros(3, np.float32)}),
     'unexpected arrays extra.weight'),
    (lambda s: s.pop('lstm.bias_hh'), 'missing arrays lstm.bias_hh'),
    (lambda s: s.update({'lstm.bias_ih': np.full(1024, np.nan,
                                                 np.float32)}),
     'non-finite'),
    (lambda s: [s.pop(k) for k in list(s) if k.startswith('lstm.')]
     and s.update({'gru.weight_ih': np.zeros((768, 800), np.float32)}),
     'GRU policy'),
])
def test_a_state_dict_of_another_network_is_refused(change, message):
    state = greydanus_state(np.random.default_rng(4))
    change(state)
    with pytest.raises(ImportFailure, match=message):
        from_greydanus(state)


class ChainerRLA3CFF(chainer.ChainList, a3c.A3CModel):
    """ChainerRL's Atari example network, as that example defines it."""

    def __init__(self, n_actions):
        self.head = rl_links.NIPSDQNHead()
        self.pi = policies.FCSoftmaxPolicy(self.head.n_output_channels,
                                           n_actions)
        self.v = v_function.FCVFunction(self.head.n_output_channels)
        super().__init__(self.head, self.pi, self.v)

    def pi_and_v(self, state):
        out = self.head(state)
        return self.pi(out), self.v(out)


class ChainerRLA3CLSTM(chainer.ChainList, a3c.A3CModel, RecurrentChainMixin):
    def __init__(self, n_actions):
        self.head = rl_links.NIPSDQNHead()
        self.pi = policies.FCSoftmaxPolicy(self.head.n_output_channels,
                                           n_actions)
        self.v = v_function.FCVFunction(self.head.n_output_channels)
        self.lstm = L.LSTM(self.head.n_output_channels,
                           self.head.n_output_channels)
        super().__init__(self.head, self.lstm, self.pi, self.v)

    def pi_and_v(self, state):
        h = self.head(state)
        h = self.lstm(h)
        return self.pi(h), self.v(h)


@pytest.mark.parametrize('original,arch', [(ChainerRLA3CFF, 'ChainerRLFF'),
                                           (ChainerRLA3CLSTM,
                                            'ChainerRLLSTM')])
def test_chainerrl_models_import_with_their_outputs(tmp_path, original,
                                                    arch):
    source = original(6)
    rng = np.random.RandomState(5)
    x = rng.uniform(0, 1, (3, 4, 84, 84)).astype(np.float32)
    with chainer.using_config('train', False):
        source.pi_and_v(x[:1])          # initialise the lazy weights
    for _, param in source.namedparams():
        param.array[...] = rng.standard_normal(param.shape) * 0.05
    path = str(tmp_path / 'model.npz')
    chainer.serializers.save_npz(path, source)
    got_arch, n_actions, arrays = read_source('chainerrl', path)
    assert (got_arch, n_actions) == (arch, 6)
    model = _suite_model(arch, 6, arrays, frames=4)
    if hasattr(source, 'reset_state'):
        source.reset_state()
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for step in range(3):     # recurrent ones carry their state
            want_pi, want_v = source.pi_and_v(x[step:step + 1])
            got_pi, got_v = model.pi_and_v(x[step:step + 1])
            np.testing.assert_allclose(got_pi.logits.array,
                                       want_pi.logits.array, rtol=1e-5,
                                       atol=1e-6)
            np.testing.assert_allclose(got_v.array, want_v.array, rtol=1e-5,
                                       atol=1e-6)


def test_a_chainerrl_file_of_another_network_is_refused(tmp_path):
    path = str(tmp_path / 'model.npz')
    np.savez(path, **{'0/0/W': np.zeros((32, 4, 8, 8), np.float32)})
    with pytest.raises(ImportFailure, match='not the model.npz'):
        read_source('chainerrl', path)
    rng = np.random.RandomState(0)
    arrays = {name.lstrip('/'): rng.standard_normal(p.shape).astype(
        np.float32) for name, p in
        _initialised(ARCHS['ChainerRLFF'].make_model(6, 4)).namedparams()}
    arrays['0/2/W'] = arrays['0/2/W'][:, :100]
    np.savez(path, **arrays)
    with pytest.raises(ImportFailure, match=r'0/2/W is \(256, 100\)'):
        read_source('chainerrl', path)
    with open(path, 'wb') as f:
        f.write(b'PK\x03\x04 truncated')
    with pytest.raises(ImportFailure, match='cannot read'):
        read_source('chainerrl', path)


def _initialised(model):
    with chainer.using_config('train', False):
        model.pi_and_v(np.zeros((1, 4, 84, 84), np.float32))
    return model
