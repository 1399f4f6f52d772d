"""Rollouts recorded by the demo: what the agent saw and did, step by step."""
import json
import os

import chainer
import numpy as np
import pytest

from evaluation import objects
import saliency_app
from agents import load_agent
from models.networks import phi
from env_gym_chainer import FramePreprocessor
from models.recurrent_state import snapshot
from evaluation.rollout import load_rollout


def test_rollout_pairs_each_frame_with_what_the_agent_saw(rollout_path):
    arrays, meta = load_rollout(rollout_path)
    assert arrays['frames'].shape == (20, 210, 160, 3)
    assert arrays['observations'].shape == (20, 4, 84, 84)
    assert arrays['logits'].shape == arrays['action_probs'].shape == (20, 6)
    preprocess = FramePreprocessor(84)
    for frame, obs in zip(arrays['frames'], arrays['observations']):
        np.testing.assert_array_equal(preprocess(frame), obs[-1])
    np.testing.assert_allclose(arrays['action_probs'].sum(axis=1), 1,
                               rtol=1e-5)
    assert meta['arch'] == 'FFSoftmax' and meta['n_actions'] == 6
    # The RAM of each step: the agent's paddle where the frame shows it.
    assert arrays['ram'].shape == (20, 128) and arrays['ram'].dtype == np.uint8
    for frame, ram in zip(arrays['frames'], arrays['ram']):
        paddle = objects.objects('pong', ram)['player']
        column = frame[34:194, 140:144]
        rows = np.nonzero((column == (92, 186, 92)).all(axis=2).any(axis=1))[0]
        if len(rows) == 16:
            assert abs(rows[0] + 34 - paddle.y) <= 2
    assert os.path.isdir(meta['checkpoint'])


def test_recorded_state_is_the_one_each_frame_was_seen_with(trained_lstm,
                                                            lstm_rollout):
    arrays, meta = load_rollout(lstm_rollout)
    assert arrays['recurrent_states'].shape == (25, 512)
    # Replay step by step from a fresh state.
    model = load_agent(trained_lstm)[0].model
    model.reset_state()
    with chainer.no_backprop_mode():
        for t in range(25):
            np.testing.assert_allclose(snapshot(model),
                                       arrays['recurrent_states'][t],
                                       rtol=1e-5, atol=1e-6)
            obs = phi(arrays['observations'][t])[None]
            policy, value = model.pi_and_v(obs)
            np.testing.assert_allclose(policy.logits.array[0],
                                       arrays['logits'][t], rtol=1e-4,
                                       atol=1e-5)
    assert not np.allclose(arrays['recurrent_states'][0],
                           arrays['recurrent_states'][10])


def _damaged(rollout_path, tmp_path, damage):
    path = tmp_path / 'bad.npz'
    if damage == 'truncated':
        data = open(rollout_path, 'rb').read()
        path.write_bytes(data[:len(data) // 2])
        return path
    arrays, meta = load_rollout(rollout_path)
    if damage == 'short frames':
        arrays['frames'] = arrays['frames'][:-3]
    elif damage == 'observation shape':
        arrays['observations'] = arrays['observations'][:, :, :60, :60]
    elif damage == 'meta type':
        meta['n_actions'] = 'six'
    elif damage == 'scalar actions':
        arrays['actions'] = np.array(3)
    elif damage == 'meta not json':
        meta = None
    elif damage == 'pickled meta':
        evil = np.empty(1, dtype=object)
        evil[0] = {'arch': 'FFSoftmax'}
        np.savez(path, meta=evil, **arrays)
        return path
    elif damage == 'nan values':
        arrays['values'][3] = np.nan
    elif damage == 'action out of range':
        arrays['actions'][0] = 9
    text = '{not json' if meta is None else json.dumps(meta)
    np.savez(path, meta=np.array(text), **arrays)
    return path


@pytest.mark.parametrize('damage,needle', [
    ('truncated', 'cannot read rollout'),
    ('short frames', 'column frames is uint8 (17, 210, 160, 3), expected '
                     '20 rows'),
    ('observation shape', 'the FFSoftmax network reads (4, 84, 84)'),
    ('meta type', "meta n_actions is 'six', expected int"),
    ('meta not json', 'meta is not JSON'),
    ('pickled meta', 'cannot read rollout'),
    ('nan values', 'column values holds non-finite values'),
    ('action out of range', 'actions outside 0..5'),
    ('scalar actions', 'column actions is a single int64 value'),
])
def test_damaged_rollouts_end_in_one_line(rollout_path, tmp_path, capsys,
                                          damage, needle):
    path = _damaged(rollout_path, tmp_path, damage)
    rc = saliency_app.main(['--rollout', str(path), '--start-frame', '0',
                            '--end-frame', '1', '--out',
                            str(tmp_path / 'out')])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and needle in err, err


def test_a_meta_nested_too_deep_is_refused(tmp_path):
    """A downloaded rollout whose meta is nested beyond Python's recursion
    limit ends in a ValueError (one line in the tools), not a traceback."""
    path = tmp_path / 'deep.npz'
    np.savez(path, frames=np.zeros((1, 210, 160, 3), np.uint8),
             observations=np.zeros((1, 4, 84, 84), np.uint8),
             actions=np.zeros(1, np.int64),
             meta=np.array('[' * 200000 + ']' * 200000))
    with pytest.raises(ValueError, match='meta is not JSON'):
        load_rollout(str(path))
