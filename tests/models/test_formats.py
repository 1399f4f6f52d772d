"""The formats' registry: baby-a3c's GRU policy, recognition, refusals."""
import zipfile

import chainer
import numpy as np
import pytest

from models import formats
from models.formats import ImportFailure, baby_a3c
from models.networks import A3CGRUCNN, ARCHS
from test_importers import (_conv, _elu, _sigmoid, _suite_model,
                            breakout_frames, greydanus_state)
from torch_writer import baby_a3c_state, save_legacy, save_zip


def gru_forward(state, frame, hx):
    """baby-a3c's ``NNPolicy.forward`` in NumPy (float64): four
    convolutions with ELU, PyTorch's ``GRUCell`` (rows ``[r | z | n]``,
    ``b_hn`` inside the reset product), the heads. Returns ``(value,
    logits, hx)``."""
    s = {k: v.astype(np.float64) for k, v in state.items()}
    x = frame[None].astype(np.float64)
    for k in range(1, 5):
        x = _elu(_conv(x, s['conv{}.weight'.format(k)],
                       s['conv{}.bias'.format(k)]))
    gi = s['gru.weight_ih'] @ x.reshape(-1) + s['gru.bias_ih']
    gh = s['gru.weight_hh'] @ hx + s['gru.bias_hh']
    i_r, i_z, i_n = np.split(gi, 3)
    h_r, h_z, h_n = np.split(gh, 3)
    r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    hx = (1 - z) * n + z * hx
    value = s['critic_linear.weight'] @ hx + s['critic_linear.bias']
    logits = s['actor_linear.weight'] @ hx + s['actor_linear.bias']
    return value[0], logits, hx


def _play(model, frames):
    """Logits, values and states of ``model`` over ``frames``."""
    out = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for frame in frames:
            x = frame.astype(np.float32)[None, None] / 255
            pi, v = model.pi_and_v(x)
            out.append((pi.logits.array[0], float(v.array[0, 0]),
                        model.gru.h.array[0].copy()))
    return out


@pytest.mark.parametrize('save', [save_zip, save_legacy])
def test_baby_a3c_logits_value_and_state_are_pytorchs(tmp_path, save):
    state = baby_a3c_state(np.random.default_rng(0), n_actions=6, scale=0.1)
    path = str(tmp_path / 'model.80.tar')
    save(path, state)
    assert formats.recognise(path) == 'baby-a3c'
    arch, n_actions, arrays = formats.read('baby-a3c', path)
    assert (arch, n_actions) == ('GRU', 6)
    model = _suite_model(arch, n_actions, arrays)
    assert isinstance(model, A3CGRUCNN)
    frames = breakout_frames()
    hx = np.zeros(256)
    for frame, (logits, value, h) in zip(frames, _play(model, frames)):
        want_value, want_logits, hx = gru_forward(
            state, frame.astype(np.float32) / 255, hx)
        np.testing.assert_allclose(logits, want_logits, rtol=1e-5,
                                   atol=1e-5)
        assert value == pytest.approx(want_value, rel=1e-5, abs=1e-5)
        np.testing.assert_allclose(h, hx, rtol=1e-5, atol=1e-5)
    # The state moved: the check covered the recurrence, not one step.
    assert np.abs(hx).max() > 0.05


@pytest.mark.parametrize('order', [(1, 0, 2), (0, 2, 1), (2, 1, 0)])
def test_a_wrong_gate_order_is_caught(order):
    """With the gate blocks taken in another order (``[z | r | n]``, ...)
    the outputs differ from PyTorch's: the reference check above fails on
    a wrong layout."""
    state = baby_a3c_state(np.random.default_rng(1), scale=0.2)
    _, _, arrays = baby_a3c.convert(state)
    for name in ('1/input/W', '1/input/b', '1/hidden/W', '1/hidden/b'):
        arrays[name] = np.concatenate(
            [np.split(arrays[name], 3)[k] for k in order])
    model = _suite_model('GRU', 4, arrays)
    frames = breakout_frames(3)
    hx = np.zeros(256)
    worst = 0
    for frame, (logits, _, _) in zip(frames, _play(model, frames)):
        _, want_logits, hx = gru_forward(state, frame.astype(np.float32)
                                         / 255, hx)
        worst = max(worst, np.abs(logits - want_logits).max())
    assert worst > 1e-3


def test_the_state_is_reset_only_at_a_reset():
    model = ARCHS['GRU'].make_model(4, 1)
    x = np.random.RandomState(0).rand(1, 1, 80, 80).astype(np.float32)
    with chainer.no_backprop_mode():
        first = model.pi_and_v(x)[1].array.copy()
        second = model.pi_and_v(x)[1].array.copy()
        model.reset_state()
        again = model.pi_and_v(x)[1].array
    assert not np.array_equal(first, second)      # the state carried on
    np.testing.assert_array_equal(first, again)


def test_every_format_is_recognised(tmp_path):
    from safetensors.numpy import save_file
    rng = np.random.default_rng(2)
    paths = {'baby-a3c': tmp_path / 'baby.tar',
             'greydanus': tmp_path / 'lstm.tar',
             'safetensors': tmp_path / 'policy.safetensors'}
    save_legacy(str(paths['baby-a3c']), baby_a3c_state(rng))
    save_zip(str(paths['greydanus']), greydanus_state(rng))
    save_file(dict(baby_a3c_state(rng)), str(paths['safetensors']))
    paths['chainerrl'] = tmp_path / 'model.npz'
    np.savez(str(paths['chainerrl']), **{
        '0/0/W': np.zeros((16, 4, 8, 8), np.float32),
        '0/2/W': np.zeros((256, 2592), np.float32)})
    for name, path in paths.items():
        assert formats.recognise(str(path)) == name
    # The safetensors file holds baby-a3c's names: the GRU network.
    assert formats.read('safetensors', str(paths['safetensors']))[0] == 'GRU'
    other = tmp_path / 'notes.txt'
    other.write_text('not an agent')
    with pytest.raises(ImportFailure, match='none of the formats'):
        formats.recognise(str(other))
    assert set(formats.FORMATS) == set(formats.REGISTRY) == {
        'baby-a3c', 'greydanus', 'safetensors', 'chainerrl', 'sb3',
        'cleanrl', 'pfrl'}
    for module in formats.REGISTRY.values():
        assert module.HELP and module.PROTOCOL


def test_a_dataparallel_prefix_is_taken_off(tmp_path):
    state = baby_a3c_state(np.random.default_rng(3))
    path = str(tmp_path / 'parallel.tar')
    save_zip(path, {'module.' + k: v for k, v in state.items()})
    assert formats.recognise(path) == 'baby-a3c'
    arch, _, arrays = formats.read('baby-a3c', path)
    np.testing.assert_array_equal(arrays['1/hidden/W'],
                                  state['gru.weight_hh'])


def test_a_file_that_does_not_fit_names_what_it_holds(tmp_path):
    state = baby_a3c_state(np.random.default_rng(4))
    del state['gru.bias_hh']
    state['gru.extra'] = np.zeros(3, np.float32)
    path = str(tmp_path / 'odd.tar')
    save_zip(path, state)
    with pytest.raises(ImportFailure) as e:
        formats.read('baby-a3c', path)
    message = str(e.value)
    assert 'missing arrays gru.bias_hh' in message
    assert 'unexpected arrays gru.extra' in message
    assert 'the file holds actor_linear.bias' in message
    # A GRU file given as visualize_atari's LSTM says what it is.
    save_zip(path, baby_a3c_state(np.random.default_rng(5)))
    with pytest.raises(ImportFailure, match='import it as baby-a3c'):
        formats.read('greydanus', path)
    # ... and a ChainerRL file that is not one lists its arrays.
    npz = str(tmp_path / 'model.npz')
    np.savez(npz, a=np.zeros(2, np.float32))
    with pytest.raises(ImportFailure, match='the file holds a'):
        formats.read('chainerrl', npz)


def test_a_planted_pickle_is_refused_before_anything_runs(tmp_path):
    from torch_writer import Planted
    marker = tmp_path / 'ran'
    path = str(tmp_path / 'planted.tar')
    save_zip(path, baby_a3c_state(np.random.default_rng(6)),
             extra=Planted('touch {}'.format(marker)))
    with pytest.raises(ImportFailure):
        formats.read('baby-a3c', path)
    assert not formats.REGISTRY['baby-a3c'].recognise(path)
    assert not marker.exists()
    assert zipfile.is_zipfile(path)
