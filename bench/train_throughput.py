"""Training steps/s: this suite's launcher against a bare ChainerRL A3C loop.

Both train the same model (A3CFF, ICLR-ACER head with guided ReLU) on the same
environment (GymEnvironment, PongNoFrameskip-v4) with the same number of
worker processes for the same number of steps. The bare loop is ChainerRL's
own ``experiments.train_agent_async`` with a plain ``A3C`` agent and no
evaluation. The runs alternate (launcher, bare, launcher, bare, ...) so that
machine noise hits both alike; the medians and their ratio are printed, the
ratio last.

    python bench/train_throughput.py --steps 3000 --repeats 2
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import chainerrl_compat  # noqa: E402,F401
from chainerrl import experiments  # noqa: E402
from chainerrl.agents import a3c  # noqa: E402
from chainerrl.optimizers import rmsprop_async  # noqa: E402

import agents  # noqa: E402
import train_a3c_gym  # noqa: E402
from alternate import alternate  # noqa: E402
from env_gym_chainer import GymEnvironment  # noqa: E402

ENV_ID = 'PongNoFrameskip-v4'


def launcher_run(steps, processes, outdir):
    argv = [str(processes), '--env', ENV_ID, '--steps', str(steps),
            '--outdir', outdir, '--eval-n-runs', '0',
            '--checkpoint-interval', '0', '--logger-level', '40']
    start = time.perf_counter()
    assert train_a3c_gym.main(argv) == 0
    return steps / (time.perf_counter() - start)


def chainerrl_a3c(model, agent_class=a3c.A3C):
    """An A3C agent with ChainerRL's Atari settings training ``model``."""
    opt = rmsprop_async.RMSpropAsync(lr=7e-4, eps=1e-1, alpha=0.99)
    opt.setup(model)
    return agent_class(model, opt, t_max=5, gamma=0.99, beta=1e-2,
                       phi=agents.phi)


def bare_run(steps, processes, outdir):
    start = time.perf_counter()
    env = GymEnvironment(ENV_ID)
    n_actions = env.n_actions
    env.close()
    agent = chainerrl_a3c(agents.A3CFF(n_actions))

    def make_env(process_idx, test):
        return GymEnvironment(ENV_ID, seed=process_idx)

    experiments.train_agent_async(
        agent=agent, outdir=outdir, processes=processes, make_env=make_env,
        steps=steps, eval_interval=None)
    return steps / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=3000,
                        help='training steps per run')
    parser.add_argument('--processes', type=int, default=2,
                        help='A3C worker processes')
    parser.add_argument('--repeats', type=int, default=2,
                        help='runs of each, alternating')
    args = parser.parse_args(argv)
    import logging
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        medians = alternate({
            name: (lambda i, name=name, fn=fn: fn(
                args.steps, args.processes,
                os.path.join(tmp, '{}-{}'.format(name, i))))
            for name, fn in (('launcher', launcher_run), ('bare', bare_run))},
            args.repeats)
    launcher, bare = medians['launcher'], medians['bare']
    print('median steps/s: launcher {:.1f}, bare ChainerRL {:.1f}'.format(
        launcher, bare))
    print('ratio launcher/bare: {:.2f}'.format(launcher / bare))


if __name__ == '__main__':
    main()
