"""Turn an agent trained elsewhere into a checkpoint folder of this suite.

::

    python examples/mygym/import_agent.py breakout-v4/model.80.tar \\
        --env Breakout-v4 --out imported/breakout

writes ``imported/breakout/model.npz`` and ``checkpoint.json`` (the
network, the game, the input protocol the agent was trained with and
where it came from), which the demo, the frame-range app and the report
load as they load the suite's own agents::

    python examples/mygym/train_a3c_gym.py 1 --env Breakout-v4 \\
        --demo --load imported/breakout

The formats are registered in :mod:`models.formats` (one module each; the
``--help`` epilog lists them); without FORMAT the file is recognised.
Nothing in the file is ever run: PyTorch's
pickles go through a reader that allows only the globals of a state dict
of tensors, and PyTorch itself is not needed.
"""
import hashlib
import os
import sys

import chainerrl_compat  # noqa: F401
import numpy as np

from agents import build_agent
from common.cli import OneLineParser, UsageError, run_main
from env_gym_chainer import UnknownGameError, check_atari_id, GymEnvironment
from models.checkpoint import INFO_FILE
from models import protocol
from models.formats import markdown_table
from models.formats.pfrl import model_file
from models.importers import (FORMATS, PROTOCOLS, REGISTRY, ImportFailure,
                              read_source, recognise)
from models.networks import ARCHS, stacked_frames


def _formats_help():
    """The epilog: each registered format's line (:mod:`models.formats`)
    and the named protocols."""
    lines = ['formats (FORMAT may be left out: the file is recognised):']
    lines += ['  {:<12} {}'.format(name, module.HELP)
              for name, module in REGISTRY.items()]
    lines.append('protocols (--protocol; default: the format\'s own):')
    lines += ['  ' + name for name in sorted(protocol.PRESETS)]
    return '\n'.join(lines)


def build_parser():
    p = OneLineParser(
        prog='import_agent.py',
        description='Import an agent trained elsewhere (without running '
                    'any code its file carries) as a checkpoint folder that '
                    'every tool of this suite loads.',
        epilog=_formats_help())
    p.add_argument('source', nargs='*', metavar='[FORMAT] PATH',
                   help='the file\'s format (optional) and the agent file')
    p.add_argument('--formats', action='store_true',
                   help='print the table of formats (markdown) and exit')
    p.add_argument('--env',
                   help='the ALE game id it plays, e.g. Breakout-v4 '
                        '(required: the files do not say)')
    p.add_argument('--out',
                   help='checkpoint folder to write (new, or empty; '
                        'required)')
    p.add_argument('--protocol', choices=sorted(protocol.PRESETS),
                   help='how the agent saw the game (default: its '
                        'format\'s own protocol)')
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


def _format_and_path(source):
    if not source:
        raise UsageError('give the agent file: [FORMAT] PATH')
    if len(source) > 2:
        raise UsageError('give [FORMAT] PATH: one file at a time')
    if len(source) == 2:
        if source[0] not in REGISTRY:
            raise UsageError('unknown format {!r}; choose from {}'.format(
                source[0], ', '.join(FORMATS)))
        return source
    return None, source[0]


def run(args):
    if args.formats:
        print(markdown_table())
        return 0
    args.format, args.path = _format_and_path(args.source)
    for flag in ('env', 'out'):
        if not getattr(args, flag):
            raise UsageError('--{} is required'.format(flag))
    try:
        check_atari_id(args.env)
    except UnknownGameError as e:
        raise UsageError(str(e))
    if not os.path.exists(args.path):
        raise UsageError('no file at {}'.format(args.path))
    check_out(args.out)
    try:
        if args.format is None:
            args.format = recognise(args.path)
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
    played = dict(protocol.PRESETS[args.protocol] if args.protocol
                  else PROTOCOLS[args.format])
    agent.checkpoint_info.update(
        protocol=played,
        imported_from={'format': args.format,
                       'file': os.path.basename(args.path),
                       # (a folder PFRL saved: its model.pt)
                       'sha256': sha256(model_file(args.path)),
                       # How it was trained to see the game, as the steps
                       # a reader checks against the library's source.
                       'protocol': args.protocol
                       or REGISTRY[args.format].PROTOCOL_NAME,
                       'steps': '; '.join(protocol.steps(played))})
    agent.saved_attributes = ('model',)     # weights only
    agent.save(args.out)
    written = sorted(os.listdir(args.out))
    assert INFO_FILE in written
    n = sum(int(np.prod(a.shape)) for a in arrays.values())
    print('imported {} ({}: {} arrays, {:,} weights) as --arch {} for {}: '
          '{}'.format(args.path, args.format, len(arrays), n, arch, args.env,
                      args.out))
    print('it sees the game as:')
    for line in protocol.steps(played):
        print('  - ' + line)
    return 0


def main(argv=None):
    """Entry point; returns the process exit status."""
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
