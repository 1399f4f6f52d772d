"""A3C training steps/s: one forward pass a segment against ChainerRL's A3C.

Both agents train the launcher's default model (A3CFF, ICLR-ACER head with
guided ReLU, 6 actions, t_max 5) on the same stream of real Pong
observations, recorded once beforehand, so the emulator is left out and only
the agent's share of a training step is timed: ChainerRL's ``A3C`` keeps a
graph per step and backpropagates through ``t_max`` single-frame passes;
this suite's ``BatchedA3C`` recomputes the segment in one batched pass. One
process, one BLAS thread; the runs alternate and the medians and their ratio
are printed, the ratio last.

    python bench/batched_update.py --steps 2000 --repeats 3
"""
import argparse
import copy
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import chainerrl_compat  # noqa: E402,F401
import numpy as np  # noqa: E402
from chainerrl.agents import a3c  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from models import networks  # noqa: E402
from alternate import alternate  # noqa: E402
from env_gym_chainer import GymEnvironment  # noqa: E402
from training.batched_a3c import BatchedA3C  # noqa: E402
from train_throughput import chainerrl_a3c  # noqa: E402

ENV_ID = 'PongNoFrameskip-v4'


def record(n_obs, seed=0):
    """``n_obs`` observations of random Pong play, with their rewards."""
    env = GymEnvironment(ENV_ID, seed=seed)
    rng = np.random.RandomState(seed)
    obs = [env.reset()]
    rewards = [0.0]
    while len(obs) < n_obs:
        o, r, done, _ = env.step(rng.randint(env.n_actions))
        obs.append(o if not done else env.reset())
        rewards.append(r)
    env.close()
    return obs, rewards


def timed_run(agent_class, model, observations, rewards, steps):
    agent = chainerrl_a3c(copy.deepcopy(model), agent_class)
    start = time.perf_counter()
    for t in range(steps):
        k = t % len(observations)
        agent.act_and_train(observations[k], rewards[k])
    return steps / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=2000,
                        help='training steps per run')
    parser.add_argument('--repeats', type=int, default=3,
                        help='runs of each, alternating')
    args = parser.parse_args(argv)
    observations, rewards = record(500)
    np.random.seed(0)
    model = networks.A3CFF(6)
    with threadpool_limits(limits=1):
        medians = alternate({
            name: (lambda i, cls=cls: timed_run(
                cls, model, observations, rewards, args.steps))
            for name, cls in (('batched', BatchedA3C),
                              ('chainerrl', a3c.A3C))}, args.repeats)
    batched, chainerrl = medians['batched'], medians['chainerrl']
    print('median steps/s: batched {:.1f}, ChainerRL A3C {:.1f}'.format(
        batched, chainerrl))
    print('ratio batched/ChainerRL: {:.2f}'.format(batched / chainerrl))


if __name__ == '__main__':
    main()
