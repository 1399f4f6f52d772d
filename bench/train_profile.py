"""Where a training worker's time per step goes, measured.

One worker's loop in this process, as the launcher runs it (the
architecture's model and agent, one ``GymEnvironment``, one BLAS thread,
freed memory kept): act, step the game, update every ``t_max`` steps. The
agent's methods are wrapped with timers, and the time per step is split
into the environment's step, acting (the policy's forward pass and the
draw of an action), and the update: its gradients, the shared optimizer's
step and the re-sync of the local weights. Whatever the loop spends
outside them is ``rest``. Pause any training while it runs.

    python bench/train_profile.py --steps 3000
"""
import argparse
import collections
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import agents  # noqa: E402
from models import networks  # noqa: E402
from training import memory  # noqa: E402
from env_gym_chainer import GymEnvironment  # noqa: E402

GAMES = {'FFSoftmax': 'PongNoFrameskip-v4', 'LSTM': 'BreakoutNoFrameskip-v4'}


def timed(owner, name, totals, key):
    """Replace ``owner.name`` by a wrapper adding its time to
    ``totals[key]``."""
    method = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start
    setattr(owner, name, wrapper)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', choices=sorted(GAMES), default='FFSoftmax',
                        help='model (and game: Pong for FFSoftmax, Breakout '
                             'for LSTM)')
    parser.add_argument('--steps', type=int, default=3000,
                        help='steps timed (after --warmup steps)')
    parser.add_argument('--warmup', type=int, default=200,
                        help='steps played before timing')
    args = parser.parse_args(argv)
    memory.reuse_freed_memory()
    spec = networks.ARCHS[args.arch]
    n_frames = networks.stacked_frames(args.arch)
    env = GymEnvironment(GAMES[args.arch], frame_buffer_length=n_frames,
                         preprocessor=spec.make_preprocessor(), seed=0,
                         fire_on_new_life='auto', episodic_life='auto')
    agent = agents.build_agent(args.arch, env.n_actions, n_frames)
    np.random.seed(0)
    totals = collections.Counter()
    timed(env, 'step', totals, 'environment step')
    timed(agent, '_sample_action', totals, 'acting')
    timed(agent, 'update', totals, 'update')
    timed(agent.optimizer, 'update', totals, 'update: optimizer')
    timed(agent, 'sync_parameters', totals, 'update: re-sync')

    obs, reward = env.reset(), 0.0
    with threadpool_limits(limits=1):
        for step in range(args.warmup + args.steps):
            if step == args.warmup:
                totals.clear()
                start = time.perf_counter()
            action = agent.act_and_train(obs, reward)
            obs, reward, done, info = env.step(action)
            if done or info['needs_reset']:
                agent.stop_episode_and_train(obs, reward, done=done)
                obs, reward = env.reset(), 0.0
        total = time.perf_counter() - start
    env.close()
    # The update's own share is what its optimizer step and re-sync leave.
    totals['update: gradients'] = (totals.pop('update')
                                   - totals['update: optimizer']
                                   - totals['update: re-sync'])
    totals['rest'] = total - sum(totals.values())
    print('{} on {}: {:.3f} ms per step ({:.0f} steps/s, one worker)'.format(
        args.arch, GAMES[args.arch], 1e3 * total / args.steps,
        args.steps / total))
    order = ['environment step', 'acting', 'update: gradients',
             'update: optimizer', 'update: re-sync', 'rest']
    for key in order:
        print('  {:20s} {:6.3f} ms  {:5.1f}%'.format(
            key, 1e3 * totals[key] / args.steps, 100 * totals[key] / total))


if __name__ == '__main__':
    main()
