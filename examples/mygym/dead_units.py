"""Count the ReLU units of an agent's convolutional head that never fire.

A unit whose pre-activation is negative on every input gets no gradient and
never recovers. Many of them mean the optimiser has damaged the network
(e.g. RMSprop with a tiny epsilon and no gradient clipping). Check a run's
checkpoints with::

    python examples/mygym/dead_units.py --load RUN/1000000_checkpoint

The frames are played with uniformly random actions from the game the
checkpoint was trained on (``checkpoint.json``; ``--env`` otherwise) and
preprocessed as in training. For each layer of the head it prints how many
units (channels of a convolution) have no positive output at any position
of any frame, and the fraction of all outputs that are positive.
"""
import sys

import chainer
import numpy as np
from chainer import functions as F

import chainerrl_compat  # noqa: F401
from agents import environment_options, input_protocol, load_for_tool
from models.networks import ARCHS, phi
from models.checkpoint import CheckpointError
from common.cli import (SEED, OneLineParser, UsageError, add_flag,
                        add_game_flags, int_in, run_main)
from env_gym_chainer import GymEnvironment, UnknownGameError, check_atari_id


def layer_activity(model, x):
    """Per ReLU layer of ``model`` (its declared convolutions, then its
    dense layers): ``(name, units, dead units, fraction of outputs > 0)``
    for a batch ``x`` of its input. Units are output channels."""
    st = model.structure
    named = [('conv{}'.format(k), link)
             for k, link in enumerate(st.convs, 1)]
    named += [('linear', link) for link in st.dense]
    rows = []
    with chainer.using_config('train', True), chainer.no_backprop_mode():
        h = x
        for name, layer in named:
            h = F.relu(layer(h)).array
            positive = h > 0
            fired = positive.reshape(len(x), h.shape[1], -1).any(axis=(0, 2))
            rows.append((name, h.shape[1], int((~fired).sum()),
                         float(positive.mean())))
    return rows


def random_play_frames(env_id, options, n_frames, frames, seed):
    """``frames`` observations ``(frames, n_frames, S, S)`` of ``env_id``
    in random play, after ``phi``; ``options``: the agent's input protocol
    (:func:`agents.environment_options`)."""
    env = GymEnvironment(env_id, frame_buffer_length=n_frames, seed=seed,
                         **options)
    rng = np.random.RandomState(seed)
    obs, out = env.reset(), []
    try:
        while len(out) < frames:
            out.append(phi(obs))
            obs, _, done, info = env.step(rng.randint(env.n_actions))
            if done or info.get('needs_reset'):
                obs = env.reset()
    finally:
        env.close()
    return np.stack(out)


def build_parser():
    p = OneLineParser(
        prog='dead_units.py',
        description='Count the ReLU units of trained agents\' heads that '
                    'never fire on frames of their game.')
    add_flag(p, 'load', action='append', default=[], metavar='CHECKPOINT',
             help='checkpoint folder (model.npz, checkpoint.json), as every '
                  'tool takes it; repeat for several')
    p.add_argument('checkpoints', nargs='*', metavar='CHECKPOINT',
                   help='more checkpoint folders (the older way to give '
                        'them)')
    add_game_flags(p, sorted(ARCHS))
    p.add_argument('--frames', type=int_in(1, 100000), default=300,
                   help='number of frames to play (default 300)')
    add_flag(p, 'seed', type=SEED, default=0,
             help='seed of the game and of the random actions')
    return p


def check_one(path, args, cache):
    """Print the layers of the checkpoint at ``path``; a checkpoint that
    cannot be checked raises :class:`UsageError` (one line)."""
    try:
        agent, info = load_for_tool(path, args.env, args.arch)
    except CheckpointError as e:
        raise UsageError(str(e))
    env_id, arch = info['env'], info['arch']
    if agent.model.structure.activation != 'relu':
        raise UsageError('{}: arch {} has no ReLU layers to check (its '
                         '{}s never die)'.format(
                             path, arch,
                             agent.model.structure.activation.upper()))
    try:
        check_atari_id(env_id)
    except UnknownGameError as e:
        raise UsageError(str(e))
    options = environment_options(info)
    key = (env_id, arch, info['frame_buffer_length'],
           repr(input_protocol(info)))
    if key not in cache:
        cache[key] = random_play_frames(
            env_id, options, info['frame_buffer_length'], args.frames,
            args.seed)
    x = cache[key]
    print('{} (step {:,}, {} frames of {})'.format(
        path, info['steps'], len(x), env_id))
    for name, units, dead, active in layer_activity(agent.model, x):
        print('  {:7s} {:4d} units: {:4d} dead, {:5.1f}% of outputs '
              'positive'.format(name, units, dead, 100 * active))
    sys.stdout.flush()


def run(args):
    paths = args.load + args.checkpoints
    if not paths:
        raise UsageError('give a checkpoint: --load CHECKPOINT')
    if len(paths) == 1:
        check_one(paths[0], args, {})
        return 0
    cache, failed = {}, 0
    for path in paths:          # each is checked and reported
        try:
            check_one(path, args, cache)
        except UsageError as e:
            failed += 1
            print('dead_units.py: error: {}'.format(e), file=sys.stderr)
            sys.stderr.flush()
    if failed:
        print('dead_units.py: {} of {} checkpoints could not be checked'
              .format(failed, len(paths)), file=sys.stderr)
        return 2
    return 0


def main(argv=None):
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
