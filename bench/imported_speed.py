"""Imported agents run as fast as the suite's own: guided and Greydanus
saliency per frame, each imported network kind beside the suite's own
network of the same family, in one run.

Pairs (imported kind -> the suite's own network it is timed against):

* ``gru`` (baby-a3c's GRU-CNN, ``--arch GRU``) -> ``lstm`` (the LSTM-CNN:
  the same four ELU convolutions on one 80x80 frame, a recurrent cell of
  256);
* ``chainerrl-ff`` (ChainerRL's Atari A3CFF, ``--arch ChainerRLFF``) ->
  ``ff`` (the ICLR-ACER A3CFF, 84x84x4);
* ``chainerrl-lstm`` (``--arch ChainerRLLSTM``) -> ``ff`` (the closest of
  the suite's 84x84x4 networks);
* ``nature-ac`` (Stable-Baselines3's PPO/A2C and CleanRL's ``Agent``,
  ``--arch NatureAC``), ``nature-ac2`` (PPO with separate actor and critic
  extractors: two towers, ``NatureAC2``) and ``nature-q`` (DQN,
  ``NatureQ``) -> ``ff`` (the same three convolutions; a dense layer of
  512 where the A3CFF has 256).

(PFRL's A3C imports into ``ChainerRLFF``: the ``chainerrl-ff`` row.)

(visualize_atari's LSTM policy, the ``greydanus`` format, imports into the
LSTM-CNN itself: it is the suite's own network.)

Every network has random weights (the public files are not part of the
repository; speed does not depend on the values) and reads real frames of
Breakout made by its own protocol. A recurrent network starts each frame
from a random state. Each round times every network once per method, in
alternating order, ``--frames`` frames each; the medians over rounds give
``ratio imported/native (<kind>, <method>): X`` (target: at most 1.25).

    python bench/imported_speed.py --frames 40 --repeats 7
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import chainerrl_compat  # noqa: E402,F401
import chainer  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from agents import environment_options  # noqa: E402
from env_gym_chainer import GymEnvironment  # noqa: E402
from models.networks import ARCHS, phi  # noqa: E402
from models.protocol import PRESETS  # noqa: E402
from models.recurrent_state import state_size  # noqa: E402
from saliency import make_saliency  # noqa: E402

# imported kind -> (its arch, the suite's own kind it is timed against)
PAIRS = {'gru': ('GRU', 'lstm'), 'chainerrl-ff': ('ChainerRLFF', 'ff'),
         'chainerrl-lstm': ('ChainerRLLSTM', 'ff'),
         'nature-ac': ('NatureAC', 'ff'), 'nature-ac2': ('NatureAC2', 'ff'),
         'nature-q': ('NatureQ', 'ff')}
NATIVE = {'lstm': 'LSTM', 'ff': 'FFSoftmax'}
PROTOCOL_OF = {'GRU': 'greydanus', 'LSTM': 'greydanus',
               'ChainerRLFF': 'chainerrl', 'ChainerRLLSTM': 'chainerrl',
               'NatureAC': 'sb3', 'NatureAC2': 'sb3', 'NatureQ': 'sb3',
               'FFSoftmax': None}
METHODS = ('guided', 'greydanus')


def frames_for(arch, n, seed=0):
    """``n`` observations of Breakout as ``arch``'s agents see it."""
    frames = 1 if ARCHS[arch].frames == 1 else 4
    info = {'arch': arch}
    if PROTOCOL_OF[arch]:
        info['protocol'] = PRESETS[PROTOCOL_OF[arch]]
    env = GymEnvironment('BreakoutNoFrameskip-v4', frame_buffer_length=frames,
                         seed=seed, **environment_options(info))
    rng = np.random.RandomState(seed)
    obs, out = env.reset(), []
    for t in range(n * 5):
        obs, _, done, _ = env.step(rng.randint(env.n_actions))
        if done:
            obs = env.reset()
        if t % 5 == 4:
            out.append(phi(obs)[None])
    env.close()
    return out


def network(arch, seed):
    model = ARCHS[arch].make_model(4, 1 if ARCHS[arch].frames == 1 else 4)
    rng = np.random.RandomState(seed)
    for param in model.params():
        param.array[...] = rng.normal(scale=0.05, size=param.shape)
    model.weights_changed()
    return model


def time_per_frame(method, model, states, rng):
    """Median seconds per frame of ``method`` over ``states``."""
    size = state_size(model)
    times = []
    for state in states:
        recurrent = (rng.normal(size=size).astype(np.float32) * 0.3
                     if size else None)
        start = time.perf_counter()
        method(model, state, recurrent)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--frames', type=int, default=20)
    p.add_argument('--repeats', type=int, default=5)
    args = p.parse_args(argv)
    archs = sorted({arch for arch, _ in PAIRS.values()}
                   | set(NATIVE.values()))
    models = {arch: network(arch, k) for k, arch in enumerate(archs)}
    states = {arch: frames_for(arch, args.frames) for arch in archs}
    methods = {name: make_saliency(name) for name in METHODS}
    runs = {(arch, name): [] for arch in archs for name in METHODS}
    rng = np.random.RandomState(0)
    with chainer.using_config('train', False), threadpool_limits(limits=1):
        for arch in archs:              # warm up: sessions, caches
            for name, method in methods.items():
                time_per_frame(method, models[arch], states[arch][:2], rng)
        for r in range(args.repeats):
            order = archs if r % 2 == 0 else archs[::-1]
            for arch in order:
                for name, method in methods.items():
                    runs[arch, name].append(time_per_frame(
                        method, models[arch], states[arch], rng))
            print('round {}: '.format(r) + ', '.join(
                '{} {} {:.1f} ms'.format(arch, name,
                                         1e3 * runs[arch, name][-1])
                for arch in archs for name in METHODS), flush=True)
    median = {key: statistics.median(v) for key, v in runs.items()}
    print()
    for kind, (arch, native) in PAIRS.items():
        for name in METHODS:
            print('{} {} {:.2f} ms/frame, native {} {:.2f} ms/frame'.format(
                kind, name, 1e3 * median[arch, name], native,
                1e3 * median[NATIVE[native], name]))
    for kind, (arch, native) in PAIRS.items():
        for name in METHODS:
            print('ratio imported/native ({}, {}): {:.2f}'.format(
                kind, name, median[arch, name]
                / median[NATIVE[native], name]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
