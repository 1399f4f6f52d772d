"""The Pong agent shipped in examples/mygym/pretrained/pong."""
import json
import os

import chainer
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import train_a3c_gym
from env_gym_chainer import GymEnvironment

AGENT = os.path.join(os.path.dirname(__file__), '..', 'examples', 'mygym',
                     'pretrained', 'pong')


def _agent():
    args = train_a3c_gym.build_parser().parse_args(['1'])
    agent = train_a3c_gym.make_agent(args, 6)
    agent.load(AGENT)
    return agent


def test_shipped_files():
    info = json.load(open(os.path.join(AGENT, 'checkpoint.json')))
    assert info['env'] == 'PongNoFrameskip-v4'
    assert info['arch'] == 'FFSoftmax' and info['n_actions'] == 6
    assert info['steps'] > 0
    size = sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(AGENT) for name in names)
    assert size < 20 * 2 ** 20
    assert not os.path.exists(os.path.join(AGENT, 'optimizer.npz'))
    for name in ('model.npz', 'scores.txt', 'learning_curve.png'):
        assert os.path.isfile(os.path.join(AGENT, name)), name


@pytest.fixture(autouse=True)
def one_blas_thread():
    # Batch-one forward passes: more threads only spin against other load.
    with threadpool_limits(limits=1):
        yield


def test_shipped_agent_plays():
    """Its greedy action changes with what it sees on real frames."""
    agent = _agent()
    env = GymEnvironment('PongNoFrameskip-v4', seed=11)
    obs = env.reset()
    greedy, values = [], []
    np.random.seed(0)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for _ in range(300):
            policy, value = agent.model.pi_and_v(train_a3c_gym.phi(obs)[None])
            greedy.append(int(policy.most_probable.array[0]))
            values.append(float(value.array[0, 0]))
            obs, _, done, _ = env.step(agent.act(obs))
            if done:
                break
    env.close()
    assert len(set(greedy)) > 1
    assert np.std(values) > 0


def test_shipped_agent_wins_a_point():
    """Within 6,000 real steps (about six games) it scores at least once."""
    agent = _agent()
    env = GymEnvironment('PongNoFrameskip-v4', seed=12)
    obs = env.reset()
    np.random.seed(1)
    points = 0
    with chainer.using_config('train', False):
        for _ in range(6000):
            obs, r, done, _ = env.step(agent.act(obs))
            points += r > 0
            if points:
                break
            if done:
                agent.stop_episode()
                obs = env.reset()
    env.close()
    assert points > 0
