"""Turn an agent trained elsewhere into a checkpoint folder of this suite.

::

    python examples/mygym/import_agent.py greydanus strong.40.tar \\
        --env BreakoutNoFrameskip-v4 --out imported/breakout

writes ``imported/breakout/model.npz`` and ``checkpoint.json`` (the
network, the game, the input protocol the agent was trained with and
where it came from), which the demo, the frame-range app and the report
load as they load the suite's own agents::

    python examples/mygym/train_a3c_gym.py 1 --env BreakoutNoFrameskip-v4 \\
        --arch LSTM --demo --load imported/breakout

Formats (:mod:`models.importers`): ``greydanus`` (visualize_atari's
PyTorch ``.tar``, either of PyTorch's formats), ``safetensors`` (the same
names in a ``.safetensors`` file) and ``chainerrl`` (the ``model.npz`` of
ChainerRL's Atari A3C example). Nothing in the file is ever run: PyTorch's
pickles go through a reader that allows only the globals of a state dict
of tensors, and PyTorch itself is not needed.
"""
import argparse
import hashlib
import os
import sys

import chainerrl_compat  # noqa: F401
import numpy as np

from agents import build_agent
from common.cli import OneLineParser, UsageError, run_main
from env_gym_chainer import UnknownGameError, check_atari_id, GymEnvironment
from models.checkpoint import INFO_FILE
from models.importers import FORMATS, PROTOCOLS, ImportFailure, read_source
from models.networks import ARCHS, stacked_frames


def build_parser():
    p = OneLineParser(
        prog='import_agent.py',
        description='Import an agent trained elsewhere (without running '
                    'any code its file carries) as a checkpoint folder that '
                    'every tool of this suite loads.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='formats:\n'
               '  greydanus    visualize_atari NNPolicy, torch.save .tar '
               '(zip or legacy) -> --arch LSTM\n'
               '  safetensors  the same state dict in a .safetensors file '
               '-> --arch LSTM\n'
               '  chainerrl    model.npz of ChainerRL\'s Atari A3C example '
               '(A3CFF / A3CLSTM)\n'
               '               -> --arch ChainerRLFF / ChainerRLLSTM')
    p.add_argument('format', choices=FORMATS, help='the file\'s format')
    p.add_argument('path', help='the agent file')
    p.add_argument('--env', required=True,
                   help='the ALE game id it plays, e.g. '
                        'BreakoutNoFrameskip-v4')
    p.add_argument('--out', required=True,
                   help='checkpoint folder to write (new, or empty)')
    return p


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def check_out(folder):
    """Refuse an output folder that holds files (nothing is overwritten)
    or cannot be made."""
    if os.path.isdir(folder) and os.listdir(folder):
        raise UsageError('--out {} is not empty (nothing is overwritten)'
                         .format(folder))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError('--out {} is a file'.format(folder))
    parent = os.path.dirname(os.path.abspath(folder))
    if not os.access(parent if os.path.isdir(parent) else '.', os.W_OK):
        raise UsageError('cannot write to --out {}'.format(folder))


def run(args):
    try:
        check_atari_id(args.env)
    except UnknownGameError as e:
        raise UsageError(str(e))
    if not os.path.isfile(args.path):
        raise UsageError('no file at {}'.format(args.path))
    check_out(args.out)
    try:
        arch, n_actions, arrays = read_source(args.format, args.path)
    except ImportFailure as e:
        raise UsageError(str(e))
    env = GymEnvironment(args.env)
    try:
        game_actions = env.n_actions
    finally:
        env.close()
    if game_actions != n_actions:
        raise UsageError('the network has {} actions but {} has {}'.format(
            n_actions, args.env, game_actions))
    frames = stacked_frames(arch, ARCHS[arch].frames
                            or arrays['0/0/W'].shape[1])
    agent = build_agent(arch, n_actions, frames, env=args.env)
    params = {name.lstrip('/'): param
              for name, param in agent.model.namedparams()}
    if set(params) != set(arrays):     # a converter out of step with ARCHS
        raise AssertionError('{} arrays do not match the {} network'.format(
            args.format, arch))
    for name, param in params.items():
        if param.array.shape != arrays[name].shape:
            raise UsageError('array {} is {}, the {} network needs {}'.format(
                name, arrays[name].shape, arch, param.array.shape))
        param.array[...] = arrays[name]
    agent.checkpoint_info.update(
        protocol=dict(PROTOCOLS[args.format]),
        imported_from={'format': args.format,
                       'file': os.path.basename(args.path),
                       'sha256': sha256(args.path)})
    agent.saved_attributes = ('model',)     # weights only
    agent.save(args.out)
    written = sorted(os.listdir(args.out))
    assert INFO_FILE in written
    n = sum(int(np.prod(a.shape)) for a in arrays.values())
    print('imported {} ({} arrays, {:,} weights) as --arch {} for {}: {}'
          .format(args.path, len(arrays), n, arch, args.env, args.out))
    return 0


def main(argv=None):
    """Entry point; returns the process exit status."""
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
