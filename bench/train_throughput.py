"""Training steps/s: this suite's launcher against a bare ChainerRL A3C loop
and against its environments alone.

The launcher and the bare loop train the same model (``--arch``: the
default A3CFF on Pong, or the LSTM-CNN on Breakout) on the same environment
(GymEnvironment with that architecture's preprocessing) with the same number
of worker processes for the same number of steps. The bare loop is
ChainerRL's own ``experiments.train_agent_async`` with a plain ``A3C`` agent
and no evaluation. The env-only run is the launcher's own training
environments (``train_a3c_gym.env_factory``: same game, preprocessing,
reward filter and life rules), one per forked worker as in training,
stepped with random actions for the same number of steps in all: the
rate training would reach if the agent cost nothing. Every rate is a
whole run (start-up, forking, building the environments included) in a
fresh Python process (nothing one sets up, such as the launcher's memory
settings, reaches another), and the runs alternate (launcher, bare,
env-only, launcher, ...) so that machine noise hits all alike; the
medians and the ratios are printed, the ratios last.

    python bench/train_throughput.py --steps 3000 --repeats 2
    python bench/train_throughput.py --arch LSTM --steps 3000 --repeats 2
"""
import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import chainerrl_compat  # noqa: E402,F401
from chainerrl import experiments  # noqa: E402
from chainerrl.agents import a3c  # noqa: E402
from chainerrl.optimizers import rmsprop_async  # noqa: E402

import numpy as np  # noqa: E402

from models import networks  # noqa: E402
import train_a3c_gym  # noqa: E402
from training import runner  # noqa: E402
from alternate import alternate  # noqa: E402
from env_gym_chainer import GymEnvironment  # noqa: E402

GAMES = {'FFSoftmax': 'PongNoFrameskip-v4', 'LSTM': 'BreakoutNoFrameskip-v4'}


def launcher_argv(steps, processes, outdir, arch):
    return [str(processes), '--env', GAMES[arch], '--arch', arch,
            '--steps', str(steps), '--outdir', outdir, '--eval-n-runs', '0',
            '--checkpoint-interval', '0', '--logger-level', '40']


def launcher_run(steps, processes, outdir, arch):
    argv = launcher_argv(steps, processes, outdir, arch)
    start = time.perf_counter()
    assert train_a3c_gym.main(argv) == 0
    return steps / (time.perf_counter() - start)


def env_only_run(steps, processes, outdir, arch):
    """The launcher's training environments alone, random actions."""
    start = time.perf_counter()
    args = train_a3c_gym.build_parser().parse_args(
        launcher_argv(steps, processes, outdir, arch))
    make_env = train_a3c_gym.env_factory(args)
    counter = mp.get_context('fork').Value('l', 0)

    def play(process_idx):
        env = make_env(process_idx, test=False)
        rng = np.random.RandomState(process_idx)
        env.reset()
        while True:
            # One global step counter, as the training workers share.
            with counter.get_lock():
                if counter.value >= steps:
                    break
                counter.value += 1
            _, _, done, info = env.step(rng.randint(env.n_actions))
            if done or info['needs_reset']:
                env.reset()
        env.close()

    assert not runner.run_processes(processes, play)
    return steps / (time.perf_counter() - start)


def chainerrl_a3c(model, agent_class=a3c.A3C):
    """An A3C agent with ChainerRL's Atari settings training ``model``."""
    opt = rmsprop_async.RMSpropAsync(lr=7e-4, eps=1e-1, alpha=0.99)
    opt.setup(model)
    return agent_class(model, opt, t_max=5, gamma=0.99, beta=1e-2,
                       phi=networks.phi)


def bare_run(steps, processes, outdir, arch):
    start = time.perf_counter()
    spec = networks.ARCHS[arch]
    n_frames = networks.stacked_frames(arch)

    def make_env(process_idx, test):
        return GymEnvironment(GAMES[arch], frame_buffer_length=n_frames,
                              preprocessor=spec.make_preprocessor(),
                              seed=process_idx)

    env = make_env(0, False)
    n_actions = env.n_actions
    env.close()
    agent = chainerrl_a3c(spec.make_model(n_actions, n_frames))

    experiments.train_agent_async(
        agent=agent, outdir=outdir, processes=processes, make_env=make_env,
        steps=steps, eval_interval=None)
    return steps / (time.perf_counter() - start)


RUNS = {'launcher': launcher_run, 'bare': bare_run,
        'env-only': env_only_run}


def in_subprocess(name, steps, processes, outdir, arch):
    """Steps/s of one run of ``name``, in a new Python process."""
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), '--one', name,
         '--steps', str(steps), '--processes', str(processes),
         '--arch', arch, '--outdir', outdir],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=3000,
                        help='training steps per run')
    parser.add_argument('--processes', type=int, default=2,
                        help='A3C worker processes')
    parser.add_argument('--repeats', type=int, default=2,
                        help='runs of each, alternating')
    parser.add_argument('--arch', choices=sorted(GAMES), default='FFSoftmax',
                        help='model (and game: Pong for FFSoftmax, Breakout '
                             'for LSTM)')
    parser.add_argument('--one', choices=sorted(RUNS), help=argparse.SUPPRESS)
    parser.add_argument('--outdir', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        import logging
        logging.disable(logging.WARNING)
        with open(os.devnull, 'w') as quiet:
            stdout, sys.stdout = sys.stdout, quiet
            try:
                rate = RUNS[args.one](args.steps, args.processes, args.outdir,
                                      args.arch)
            finally:
                sys.stdout = stdout
        print(rate)
        return
    with tempfile.TemporaryDirectory() as tmp:
        medians = alternate({
            name: (lambda i, name=name: in_subprocess(
                name, args.steps, args.processes,
                os.path.join(tmp, '{}-{}'.format(name, i)), args.arch))
            for name in RUNS}, args.repeats)
    launcher, bare = medians['launcher'], medians['bare']
    env_only = medians['env-only']
    print('{}: median steps/s: launcher {:.1f}, bare ChainerRL {:.1f}, '
          'env-only {:.1f}'.format(args.arch, launcher, bare, env_only))
    print('ratio launcher/bare: {:.2f}'.format(launcher / bare))
    print('ratio launcher/env-only: {:.2f}'.format(launcher / env_only))


if __name__ == '__main__':
    main()
