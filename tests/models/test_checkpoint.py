"""Checkpoints: atomic, self-describing, and loaded without running code."""
import builtins
import os
import pickle
import re
import shutil

import numpy as np
import pytest

import train_a3c_gym
from agents import build_agent, load_agent
from models.checkpoint import CheckpointError

PONG = os.path.join(os.path.dirname(__file__), '..', '..',
                    'examples', 'mygym',
                    'pretrained', 'pong')


class Planted:
    """Unpickling this opens (creates) the marker file: code that ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return builtins.open, (self.marker, 'w')


def _copy(tmp_path, name='ck'):
    folder = tmp_path / name
    shutil.copytree(PONG, folder)
    return folder


def _arrays(folder, name='model.npz'):
    with np.load(folder / name) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize('where', ['extra member', 'in place of a weight',
                                   'pickle renamed'])
def test_a_planted_pickle_never_runs(tmp_path, where):
    folder = _copy(tmp_path)
    marker = tmp_path / 'code-ran'
    evil = np.empty(1, dtype=object)
    evil[0] = Planted(str(marker))
    arrays = _arrays(folder)
    if where == 'extra member':
        np.savez(folder / 'model.npz', evil=evil, **arrays)
    elif where == 'in place of a weight':
        arrays['0/0/W'] = evil
        np.savez(folder / 'model.npz', **arrays)
    else:
        with open(folder / 'model.npz', 'wb') as f:
            pickle.dump({'0/0/W': Planted(str(marker))}, f)
    with pytest.raises(CheckpointError):
        load_agent(str(folder))
    assert not marker.exists()
    # ... nor through the launcher, which says so in one line.
    assert train_a3c_gym.main(['1', '--demo', '--load', str(folder)]) == 2
    assert not marker.exists()


def test_a_planted_pickle_in_the_optimizer_never_runs(tmp_path):
    agent = build_agent('FFSoftmax', 6, env='PongNoFrameskip-v4')
    agent.save(str(tmp_path / 'ck'))
    marker = tmp_path / 'code-ran'
    evil = np.empty(1, dtype=object)
    evil[0] = Planted(str(marker))
    arrays = _arrays(tmp_path / 'ck', 'optimizer.npz')
    np.savez(tmp_path / 'ck' / 'optimizer.npz', t=evil,
             **{k: v for k, v in arrays.items() if k != 't'})
    with pytest.raises(CheckpointError, match='optimizer state'):
        load_agent(str(tmp_path / 'ck'))
    assert not marker.exists()


@pytest.mark.parametrize('damage,needle', [
    ('empty', 'cannot read'),
    ('truncated', 'cannot read'),
    ('random bytes', 'cannot read'),
    ('float64', 'is float64'),
    ('wrong shape', 'expected float32 (32, 4, 8, 8)'),
    ('nan', 'non-finite'),
    ('missing', 'missing arrays 0/0/W'),
])
def test_damaged_model_file(tmp_path, capsys, damage, needle):
    folder = _copy(tmp_path)
    path = folder / 'model.npz'
    arrays = _arrays(folder)
    if damage == 'empty':
        path.write_bytes(b'')
    elif damage == 'truncated':
        path.write_bytes(path.read_bytes()[:100000])
    elif damage == 'random bytes':
        path.write_bytes(np.random.RandomState(0).bytes(5000))
    else:
        if damage == 'float64':
            arrays['0/0/W'] = arrays['0/0/W'].astype(np.float64)
        elif damage == 'wrong shape':
            arrays['0/0/W'] = arrays['0/0/W'][:, :, :4]
        elif damage == 'nan':
            arrays['0/0/W'][0, 0, 0, 0] = np.nan
        else:
            del arrays['0/0/W']
        np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=re.escape(needle)):
        load_agent(str(folder))
    assert train_a3c_gym.main(['1', '--demo', '--load', str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err


def test_resume_restores_the_optimizer_state(tmp_path):
    agent = build_agent('FFSoftmax', 6, env='PongNoFrameskip-v4')
    params = list(agent.optimizer.target.params())
    for p in params:
        p.grad = np.full_like(p.array, 0.5)
    agent.optimizer.update()
    agent.save(str(tmp_path / 'ck'))
    saved = _arrays(tmp_path / 'ck', 'optimizer.npz')
    assert any(name.endswith('/ms') for name in saved)
    loaded, info = load_agent(str(tmp_path / 'ck'))
    for name, param in loaded.optimizer.target.namedparams():
        np.testing.assert_array_equal(param.update_rule.state['ms'],
                                      saved[name.lstrip('/') + '/ms'])
    assert loaded.optimizer.t == 1


def test_adam_checkpoint_resumes_with_adam(tmp_path, capsys):
    agent = build_agent('LSTM', 4, env='BreakoutNoFrameskip-v4',
                        optimizer='adam', lr=1e-4)
    for p in agent.optimizer.target.params():
        p.grad = np.full_like(p.array, 0.5)
    agent.optimizer.update()
    agent.save(str(tmp_path / 'ck'))
    saved = _arrays(tmp_path / 'ck', 'optimizer.npz')
    # No option: a resume or a demo takes the checkpoint's optimizer.
    loaded, info = load_agent(str(tmp_path / 'ck'))
    assert info['optimizer'] == 'adam'
    for name, param in loaded.optimizer.target.namedparams():
        for key in ('m', 'v'):
            np.testing.assert_array_equal(
                param.update_rule.state[key],
                saved[name.lstrip('/') + '/' + key])
    # Another optimizer's state is refused in one line; weights alone load.
    with pytest.raises(CheckpointError, match='holds adam state but this '
                       'run trains with --optimizer rmsprop'):
        load_agent(str(tmp_path / 'ck'), optimizer='rmsprop')
    assert train_a3c_gym.main([
        '1', '--env', 'BreakoutNoFrameskip-v4', '--arch', 'LSTM',
        '--optimizer', 'rmsprop', '--steps', '10', '--outdir',
        str(tmp_path / 'out'), '--load', str(tmp_path / 'ck')]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'holds adam state' in err, err
    os.remove(str(tmp_path / 'ck' / 'optimizer.npz'))
    fresh, _ = load_agent(str(tmp_path / 'ck'), optimizer='rmsprop')
    assert fresh.optimizer.lr == 7e-4


@pytest.mark.parametrize('text,needle', [
    ('{"steps": "many"}', "steps is 'many', expected an integer"),
    ('{"steps": 1e30}', 'steps is 1e+30'),
    ('{"steps": 99999999999999999999}', 'expected an integer in 0..'),
    ('{"n_actions": -1}', 'n_actions is -1'),
    ('{"arch": 7}', 'arch is 7, expected a string'),
    ('{"frame_buffer_length": true}', 'frame_buffer_length is True'),
    ('{"optimizer": "sgd"}', "optimizer is 'sgd', expected one of rmsprop"),
    ('{"optimizer": 3}', 'optimizer is 3, expected a string'),
])
def test_malformed_checkpoint_info(tmp_path, capsys, text, needle):
    folder = _copy(tmp_path)
    (folder / 'checkpoint.json').write_text(text)
    with pytest.raises(CheckpointError, match=re.escape(needle)):
        load_agent(str(folder))
    assert train_a3c_gym.main(['1', '--load', str(folder), '--outdir',
                               str(tmp_path / 'out')]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err


def test_a_checkpoint_json_nested_too_deep_is_one_line(tmp_path):
    """A downloaded checkpoint.json nested beyond Python's recursion limit
    is refused like any unreadable one, not a traceback."""
    from models.checkpoint import read_checkpoint_info
    (tmp_path / 'checkpoint.json').write_text('[' * 200000 + ']' * 200000)
    with pytest.raises(CheckpointError, match='cannot read'):
        read_checkpoint_info(str(tmp_path))
