"""SaliencyA3C: saliency in test mode never changes what the agent does."""
import os

import chainer
import numpy as np
import pytest

from agents import load_agent

from models.networks import ARCHS
from env_gym_chainer import GymEnvironment
from saliency import make_saliency


def test_saliency_does_not_change_the_actions(trained_run):
    actions = {}
    for name in ('none', 'guided'):
        agent, _ = load_agent(os.path.join(trained_run, '200_finish'))
        agent.saliency = None if name == 'none' else make_saliency(name)
        env = GymEnvironment('PongNoFrameskip-v4', seed=5)
        obs = env.reset()
        np.random.seed(123)
        taken = []
        with chainer.using_config('train', False):
            for _ in range(40):
                a = agent.act(obs)
                taken.append(int(a))
                obs, _, done, _ = env.step(a)
        actions[name] = taken
    assert actions['none'] == actions['guided']
    assert len(set(actions['none'])) > 1


def test_training_mode_computes_no_saliency(trained_run):
    agent, _ = load_agent(os.path.join(trained_run, '200_finish'))
    method = make_saliency('guided')
    calls = []

    def counted(*args):
        calls.append(1)
        return method(*args)
    agent.saliency = counted
    obs = np.zeros((4, 84, 84), dtype=np.uint8)
    with chainer.using_config('train', False):
        agent.act(obs)
        assert agent.last_result.actor.shape == (84, 84)
    assert len(calls) == 1
    agent.act(obs)                    # train mode: plain A3C
    assert len(calls) == 1            # the method did not run
    assert agent.last_result is None


def _play(agent, steps, seed=4):
    """Greedy-free play of real Breakout frames; the actions taken."""
    env = GymEnvironment('BreakoutNoFrameskip-v4', frame_buffer_length=1,
                         preprocessor=ARCHS['LSTM'].make_preprocessor(),
                         seed=seed)
    obs = env.reset()
    np.random.seed(7)
    actions = []
    with chainer.using_config('train', False):
        for _ in range(steps):
            a = int(agent.act(obs))
            actions.append(a)
            if agent.saliency is not None:
                assert agent.last_result.action == a
            obs, _, done, _ = env.step(a)
            if done:
                break
    agent.stop_episode()
    return actions


@pytest.mark.parametrize('method', [
    'guided', pytest.param('greydanus', marks=pytest.mark.slow)])
def test_lstm_saliency_leaves_the_actions_and_state_alone(trained_lstm,
                                                          method):
    plain = _play(load_agent(trained_lstm)[0], 50)
    agent, _ = load_agent(trained_lstm)
    agent.saliency = make_saliency(method, chunk=128)
    assert _play(agent, 50) == plain
    assert len(set(plain)) > 1
