"""Rollouts recorded by the demo: what the agent saw and did, step by step."""
import os

import chainer
import numpy as np

from agents import load_agent, phi
from env_gym_chainer import FramePreprocessor
from recurrent_state import snapshot
from rollout import load_rollout


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
