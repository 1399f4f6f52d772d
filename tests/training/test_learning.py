"""The launcher's A3C agent learns when the right action is on the screen.

A guard against silent training bugs (a gradient that never reaches the
policy, a wrong input scale, a broken optimizer setup), which a long Atari
run would only reveal after hours.
"""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from agents import build_agent


class BarSide:
    """A bright bar on the left or the right of a 4x84x84 observation.

    Action 0 must be taken for the left bar and 1 for the right (+1, and -1
    for the other one); actions 2..5 give 0. Episodes last 20 steps.
    """

    def __init__(self, seed, shape=(4, 84, 84)):
        self.rng = np.random.RandomState(seed)
        self.shape = shape

    def _observe(self):
        self.side = self.rng.randint(2)
        obs = np.full(self.shape, 60, np.uint8)
        column = 10 if self.side == 0 else self.shape[2] - 20
        obs[:, 30:54, column:column + 8] = 230
        return obs

    def reset(self):
        self.t = 0
        return self._observe()

    def step(self, action):
        if action in (0, 1):
            reward = 1.0 if action == self.side else -1.0
        else:
            reward = 0.0
        self.t += 1
        return self._observe(), reward, self.t >= 20, {}


def _play(agent, env, steps):
    """Train ``agent`` for ``steps``; whether each action was the right
    one."""
    obs, reward, correct = env.reset(), 0.0, []
    with threadpool_limits(limits=1):
        for _ in range(steps):
            action = agent.act_and_train(obs, reward)
            correct.append(action == env.side)
            obs, reward, done, _ = env.step(action)
            if done:
                agent.stop_episode_and_train(obs, reward, done)
                obs, reward = env.reset(), 0.0
    return correct


def test_default_agent_learns_a_visible_cue():
    np.random.seed(0)
    correct = _play(build_agent('FFSoftmax', 6), BarSide(0), 3000)
    # A uniform policy is right 1 time in 6.
    assert np.mean(correct[:200]) < 0.4
    assert np.mean(correct[-500:]) > 0.9


# The Adam case took 21.5 s in `pytest --durations` (the RMSprop one 18.3):
# slow; the default run still trains the LSTM-CNN with RMSprop.
@pytest.mark.parametrize('optimizer,lr', [
    ('rmsprop', 7e-4), pytest.param('adam', 1e-4, marks=pytest.mark.slow)])
def test_lstm_agent_learns_a_visible_cue(optimizer, lr):
    # The LSTM-CNN (4 actions) through its whole training path: acting in
    # ONNX Runtime, the update from the convolution outputs acting kept.
    np.random.seed(0)
    agent = build_agent('LSTM', 4, optimizer=optimizer, lr=lr)
    correct = _play(agent, BarSide(0, (1, 80, 80)), 2500)
    # A uniform policy is right 1 time in 4.
    assert np.mean(correct[:200]) < 0.4
    assert np.mean(correct[-500:]) > 0.8
