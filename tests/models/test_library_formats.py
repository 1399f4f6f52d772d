"""Stable-Baselines3, CleanRL and PFRL agents, imported: the suite's
networks compute what the libraries' compute (NumPy forwards written
here, on real Pong observations), and bad files are refused."""
import json
import zipfile

import chainer
import numpy as np
import pytest

import import_agent
from env_gym_chainer import GymEnvironment
from models import formats, protocol
from models.formats import ImportFailure
from models.networks import ARCHS
from sb3_writer import (cleanrl_state, pfrl_state, save_sb3, sb3_data,
                        sb3_policy_state)
from torch_writer import Planted, save_zip


def _conv(x, weight, bias, stride):
    """PyTorch's Conv2d without padding, ``x`` ``(C, H, W)``, float64."""
    out_c, _, k, _ = weight.shape
    side = (x.shape[1] - k) // stride + 1
    out = np.zeros((out_c, side, side))
    for i in range(k):
        for j in range(k):
            end = stride * side
            patch = x[:, i:i + end:stride, j:j + end:stride]
            out += np.einsum('oc,chw->ohw', weight[:, :, i, j], patch)
    return out + bias[:, None, None]


def nature_forward(state, obs, names, heads):
    """A library's Nature CNN in NumPy: ``obs`` uint8 ``(4, 84, 84)``
    divided by 255, three ReLU convolutions, the ReLU linear layer, then
    ``heads`` (name -> ``(weight name, bias name)``)."""
    s = {k: v.astype(np.float64) for k, v in state.items()}
    x = obs.astype(np.float64) / 255
    for name, stride in zip(names[:3], (4, 2, 1)):
        x = np.maximum(_conv(x, s[name + '.weight'], s[name + '.bias'],
                             stride), 0)
    h = np.maximum(s[names[3] + '.weight'] @ x.reshape(-1)
                   + s[names[3] + '.bias'], 0)
    return {key: s[w] @ h + s[b] for key, (w, b) in heads.items()}


def pfrl_forward(state, obs):
    s = {k: v.astype(np.float64) for k, v in state.items()}
    x = obs.astype(np.float64) / 255
    x = np.maximum(_conv(x, s['0.weight'], s['0.bias'], 4), 0)
    x = np.maximum(_conv(x, s['2.weight'], s['2.bias'], 2), 0)
    h = np.maximum(s['5.weight'] @ x.reshape(-1) + s['5.bias'], 0)
    pi, v = '7.child_modules.0.0.', '7.child_modules.1.'
    return {'logits': s[pi + 'weight'] @ h + s[pi + 'bias'],
            'value': s[v + 'weight'] @ h + s[v + 'bias']}


@pytest.fixture(scope='module')
def pong():
    """Real Pong observations made by the Stable-Baselines3 protocol."""
    played = protocol.PRESETS['sb3']
    env = GymEnvironment('PongNoFrameskip-v4', seed=5,
                         preprocessor=protocol.preprocessor(played),
                         **protocol.environment_options(played))
    rng = np.random.RandomState(5)
    out = [env.reset()]
    for t in range(60):
        obs = env.step(rng.randint(6))[0]
        if t % 20 == 19:
            out.append(obs)
    env.close()
    return np.array(out)


def _model(arch, n_actions, arrays):
    model = ARCHS[arch].make_model(n_actions, 4)
    for name, param in model.namedparams():
        param.array[...] = arrays[name.lstrip('/')]
    return model


def _outputs(model, obs):
    with chainer.no_backprop_mode():
        pi, v = model.pi_and_v(obs.astype(np.float32) / 255)
    return pi.logits.array, v.array[:, 0]


def _close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('kind,arch', [('ppo', 'NatureAC'),
                                       ('sep', 'NatureAC2'),
                                       ('dqn', 'NatureQ')])
def test_sb3_outputs_are_the_librarys(tmp_path, pong, kind, arch):
    state = sb3_policy_state(np.random.default_rng(0), kind=kind)
    path = str(tmp_path / 'agent.zip')
    save_sb3(path, state, sb3_data())
    assert formats.recognise(path) == 'sb3'
    got_arch, n_actions, arrays = formats.read('sb3', path)
    assert (got_arch, n_actions) == (arch, 6)
    logits, values = _outputs(_model(arch, 6, arrays), pong)
    for k, obs in enumerate(pong):
        if kind == 'dqn':
            ref = nature_forward(
                state, obs, ['q_net.features_extractor.' + n for n in
                             ('cnn.0', 'cnn.2', 'cnn.4', 'linear.0')],
                {'q': ('q_net.q_net.0.weight', 'q_net.q_net.0.bias')})
            _close(logits[k], ref['q'])
            _close(values[k], ref['q'].max())       # the value: max_a Q
            continue
        names = ('cnn.0', 'cnn.2', 'cnn.4', 'linear.0')
        pi = nature_forward(state, obs, ['pi_features_extractor.' + n
                                         for n in names],
                            {'l': ('action_net.weight', 'action_net.bias')})
        vf = nature_forward(state, obs, ['vf_features_extractor.' + n
                                         for n in names],
                            {'v': ('value_net.weight', 'value_net.bias')})
        _close(logits[k], pi['l'])
        _close(values[k], vf['v'][0])


@pytest.mark.parametrize('dqn', [False, True])
def test_cleanrl_outputs_are_the_librarys(tmp_path, pong, dqn):
    state = cleanrl_state(np.random.default_rng(1), dqn=dqn)
    path = str(tmp_path / 'agent.cleanrl_model')
    save_zip(path, state)
    assert formats.recognise(path) == 'cleanrl'
    arch, n_actions, arrays = formats.read('cleanrl', path)
    assert arch == ('NatureQ' if dqn else 'NatureAC')
    logits, values = _outputs(_model(arch, 6, arrays), pong)
    names = ['network.{}'.format(k) for k in (0, 2, 4, 7)]
    heads = ({'q': ('network.9.weight', 'network.9.bias')} if dqn else
             {'q': ('actor.weight', 'actor.bias'),
              'v': ('critic.weight', 'critic.bias')})
    for k, obs in enumerate(pong):
        ref = nature_forward(state, obs, names, heads)
        _close(logits[k], ref['q'])
        _close(values[k], ref['q'].max() if dqn else ref['v'][0])


def test_pfrl_outputs_are_the_librarys(tmp_path, pong):
    state = pfrl_state(np.random.default_rng(2))
    folder = tmp_path / 'agent'           # agent.save() writes a folder
    folder.mkdir()
    save_zip(str(folder / 'model.pt'), state)
    assert formats.recognise(str(folder)) == 'pfrl'
    arch, n_actions, arrays = formats.read('pfrl', str(folder))
    assert (arch, n_actions) == ('ChainerRLFF', 6)
    logits, values = _outputs(_model(arch, 6, arrays), pong)
    for k, obs in enumerate(pong):
        ref = pfrl_forward(state, obs)
        _close(logits[k], ref['logits'])
        _close(values[k], ref['value'][0])


def _refused(capsys, tmp_path, path, needle):
    out = tmp_path / 'out'
    rc = import_agent.main([str(path), '--env', 'PongNoFrameskip-v4',
                            '--out', str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not out.exists()


def test_bad_sb3_files_are_refused_in_one_line(tmp_path, capsys):
    rng = np.random.default_rng(3)
    state = sb3_policy_state(rng)
    marker = tmp_path / 'ran'
    planted = Planted('touch {}'.format(marker))
    # A planted payload in data's serialized entries is never decoded: the
    # plain fields are enough, and nothing runs.
    path = tmp_path / 'planted-data.zip'
    save_sb3(str(path), state, sb3_data(planted=planted))
    assert import_agent.main([str(path), '--env', 'PongNoFrameskip-v4',
                              '--out', str(tmp_path / 'ok')]) == 0
    assert not marker.exists()
    info = json.load(open(tmp_path / 'ok' / 'checkpoint.json'))
    assert info['arch'] == 'NatureAC'
    assert info['protocol']['stack_fill'] == 'zeros'
    # A policy.pth whose pickle names anything but a state dict's globals.
    bad_pth = tmp_path / 'bad.pth'
    save_zip(str(bad_pth), state, extra=planted)
    path = tmp_path / 'planted-policy.zip'
    save_sb3(str(path), state, sb3_data(),
             members={'policy.pth': bad_pth.read_bytes()})
    _refused(capsys, tmp_path, path, 'refused')
    assert not marker.exists()
    # A missing member, a truncated archive.
    path = tmp_path / 'missing.zip'
    save_sb3(str(path), state, sb3_data(), members={'policy.pth': None})
    _refused(capsys, tmp_path, path, 'none of the formats')
    with pytest.raises(ImportFailure, match='no member policy.pth'):
        formats.read('sb3', str(path))
    whole = tmp_path / 'whole.zip'
    save_sb3(str(whole), state, sb3_data())
    cut = tmp_path / 'cut.zip'
    cut.write_bytes(whole.read_bytes()[:len(whole.read_bytes()) // 2])
    with pytest.raises(ImportFailure, match='not a readable zip'):
        formats.read('sb3', str(cut))
    # A member that expands beyond a sane bound (a zip bomb).
    path = tmp_path / 'bomb.zip'
    save_sb3(str(path), state, sb3_data(),
             members={'system_info.txt': bytes(64 << 20)})
    _refused(capsys, tmp_path, path, 'beyond a sane bound')
    # A member name that climbs out of the archive.
    path = tmp_path / 'climb.zip'
    save_sb3(str(path), state, sb3_data(),
             members={'../../evil.txt': b'x'})
    _refused(capsys, tmp_path, path, 'leaves the archive')
    assert not (tmp_path.parent / 'evil.txt').exists()
    # A data member nested beyond Python's recursion limit.
    path = tmp_path / 'deep.zip'
    save_sb3(str(path), state, sb3_data(),
             members={'data': b'[' * 200000 + b']' * 200000})
    _refused(capsys, tmp_path, path, 'data is not JSON')
    # An action space that contradicts the network.
    path = tmp_path / 'actions.zip'
    save_sb3(str(path), state, sb3_data(n_actions=4))
    _refused(capsys, tmp_path, path, 'action_space has 4 actions but its '
                                     'network 6')


def test_a_zip_bomb_is_refused_before_it_is_expanded(tmp_path):
    """The check reads the sizes the archive declares: a member whose
    expanded size is beyond the bound is never read."""
    path = tmp_path / 'bomb.zip'
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('data', b'{}')
        z.writestr('policy.pth', bytes(600 << 20))
    with pytest.raises(ImportFailure, match='beyond a sane bound'):
        formats.read('sb3', str(path))


def test_the_protocols_are_the_libraries():
    steps = protocol.steps(protocol.PRESETS['sb3'])
    assert any('zeros' in s for s in steps)
    assert any('a lost life restarts the stack' in s for s in steps)
    cleanrl = protocol.steps(protocol.PRESETS['cleanrl'])
    assert cleanrl.index(next(s for s in cleanrl if 'resize each colour'
                              in s)) < cleanrl.index(
        next(s for s in cleanrl if s.startswith('then gray')))
    pfrl = protocol.steps(protocol.PRESETS['pfrl'])
    assert any('no FIRE pressed' in s for s in pfrl)
