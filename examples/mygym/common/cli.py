"""Command-line conventions shared by the launcher and the app.

A mistake a user can make (bad flag value, missing file, unknown game) ends
in one line on stderr, ``<prog>: error: <what>``, and exit status 2, never a
traceback; an output that cannot be written (disk full) in one line and
status 1; Ctrl-C ends with ``<prog>: interrupted`` and status 130, SIGTERM
the same way (the same clean-up) with status 143.
"""
import argparse
import math
import os
import shutil
import signal
import sys
import threading

from common.outputs import OutputError
from kernels.engine import DEVICES, SCORINGS


class UsageError(Exception):
    """A mistake in the command line or its inputs."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: files finished, then exit."""


def _terminate(signum, frame):
    raise Terminated()


class DefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """``--help`` with each option's default, where it has one its help
    does not already give (descriptions and epilogs kept as written)."""

    def _get_help_string(self, action):
        text = action.help or ''
        default = action.default
        if ('default' in text.lower() or default is None
                or default is False or default == argparse.SUPPRESS
                or default in ([], '') or not action.option_strings):
            return text
        return text + ' (default: %(default)s)'


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser that reports a bad flag in one line, status 2,
    and shows every default in ``--help``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('formatter_class', DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, '{}: error: {}\n'.format(self.prog, message))


def check_writable_folder(folder, flag):
    """Refuse, before any work, a folder that cannot be made or that does
    not take new files."""
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, '.write-test-{}'.format(os.getpid()))
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as e:
        raise UsageError('cannot write to {} {}: {}'.format(
            flag, folder, e.strerror or e))


def check_output_folder(folder, flag, overwrite=False):
    """Refuse, before any work and without creating anything, an output
    folder that is a file, that cannot be made, or that holds an earlier
    run's files (unless ``overwrite``: they are replaced as a whole by
    :func:`prepare_output_folder`)."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError('{} {} is a file; give a folder'.format(flag,
                                                                 folder))
    if os.path.isdir(folder) and os.listdir(folder) and not overwrite:
        raise UsageError('{} {} holds files of an earlier run; give a new '
                         'folder, or add --overwrite to replace them as a '
                         'whole'.format(flag, folder))
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.access(
            existing, os.W_OK | os.X_OK):
        raise UsageError('cannot write to {} {}'.format(flag, folder))


def prepare_output_folder(folder, overwrite=False):
    """Make ``folder`` when the first output is about to be written; with
    ``overwrite``, remove what an earlier run left there first, so that no
    file of it stays beside the new ones."""
    if overwrite and os.path.isdir(folder):
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    os.makedirs(folder, exist_ok=True)


def check_output_file(path, flag):
    """Refuse, before any work, an output file that cannot be written:
    a folder in its place, or a folder that does not take new files."""
    if os.path.isdir(path):
        raise UsageError('{} {} is a folder; give a file name'.format(
            flag, path))
    check_writable_folder(os.path.dirname(os.path.abspath(path)), flag)


def int_in(minimum, maximum=None):
    """argparse type: an integer in ``minimum..maximum`` (no upper bound if
    None)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                'expected an integer, got {!r}'.format(text))
        if value < minimum:
            raise argparse.ArgumentTypeError(
                'must be >= {}, got {}'.format(minimum, value))
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(
                'must be <= {}, got {}'.format(maximum, value))
        return value
    return parse


def int_at_least(minimum):
    """argparse type: an integer >= ``minimum``."""
    return int_in(minimum)


def finite_float(minimum=None, maximum=None, above_minimum=False):
    """argparse type: a finite number, at least (or, with
    ``above_minimum``, above) ``minimum`` and at most ``maximum``."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                'expected a number, got {!r}'.format(text))
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                'must be a finite number, got {}'.format(text))
        if minimum is not None and (value <= minimum if above_minimum
                                    else value < minimum):
            raise argparse.ArgumentTypeError('must be {} {}, got {}'.format(
                '>' if above_minimum else '>=', minimum, text))
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(
                'must be <= {}, got {}'.format(maximum, text))
        return value
    return parse


positive_float = finite_float(0, above_minimum=True)
positive_float.__doc__ = 'argparse type: a finite float > 0.'

# Seeds: workers and evaluation environments derive theirs from this one
# (seed * 1000 + worker), which must stay within 31 bits.
SEED = int_in(0, 2 ** 20 - 1)


DEVICE_HELP = ('where the saliency method runs its networks: cpu, or cuda '
               '(ONNX Runtime\'s CUDA provider, for the perturbation '
               'methods and the feed-forward agents\' guided and gradient '
               'maps; needs the packages of requirements-gpu.txt and a GPU)')


SCORING_HELP = ('how the perturbation methods score their masks: dense '
                '(the whole network on every masked input), incremental '
                '(only what each mask changes; the suite\'s networks, '
                '--device cpu), or auto (incremental where it is estimated '
                'cheaper, i.e. local masks such as greydanus\' blobs and '
                'occlusion\'s windows, dense for rise). The scores agree '
                'to float32 rounding; docs/incremental.md. Default: '
                '%(default)s')


# One vocabulary: the flag every tool gives an idea, and the older names
# that still work (hidden from --help, named in the flag's help). Tools add
# these flags through add_flag only; tests/common/test_cli.py holds every
# tool's parser to this table.
VOCABULARY = {
    'load': ('--load', ()),
    'methods': ('--methods', ('--method', '--saliency')),
    'chunk': ('--chunk', ('--saliency-chunk',)),
    'scale': ('--scale', ('--saliency-scale',)),
    'out': ('--out', ('--video-dir',)),
    'workers': ('--workers', ()),
    'device': ('--device', ()),
    'seed': ('--seed', ()),
    'video_scale': ('--video-scale', ()),
    'background': ('--background', ()),
}

SCALES = ('frame', 'episode')
# The app's name for the peak over its frame range, kept as an alias.
SCALE_ALIASES = {'range': 'episode'}

SCALE_HELP = ('divide each map by its own maximum (frame: every frame fully '
              'visible) or by the maximum over the episode or frame range '
              '(episode: intensity comparable across frames; "range" is '
              'taken as episode)')


def scale_name(text):
    """argparse type: ``frame`` or ``episode`` (``range`` taken as
    ``episode``)."""
    name = SCALE_ALIASES.get(text, text)
    if name not in SCALES:
        raise argparse.ArgumentTypeError(
            'invalid choice {!r} (choose from frame, episode)'.format(text))
    return name


def method_list(known):
    """argparse type: comma-separated method names, each in ``known``;
    returns the list, duplicates dropped, in the order given."""
    def parse(text):
        names = [name.strip() for name in text.split(',') if name.strip()]
        unknown = [name for name in names if name not in known]
        if not names or unknown:
            raise argparse.ArgumentTypeError(
                'unknown method {}; choose from {}'.format(
                    ', '.join(unknown) or '(none)', ', '.join(known)))
        return list(dict.fromkeys(names))
    return parse


def add_flag(parser, concept, **kwargs):
    """Add the flag of ``concept`` (a key of :data:`VOCABULARY`) with its
    older names as hidden aliases; ``kwargs`` go to ``add_argument``."""
    flag, aliases = VOCABULARY[concept]
    dest = kwargs.pop('dest', concept)
    if concept == 'scale':
        kwargs.setdefault('metavar', '{%s}' % ','.join(SCALES))
    if aliases and kwargs.get('help') not in (None, argparse.SUPPRESS):
        kwargs['help'] += ' (also {})'.format(', '.join(aliases))
    action = parser.add_argument(flag, dest=dest, **kwargs)
    hidden = dict(kwargs, help=argparse.SUPPRESS)
    hidden.pop('required', None)
    for alias in aliases:
        parser.add_argument(alias, dest=dest, **hidden)
    return action


def add_picture_flags(parser):
    """How maps are drawn, the same in the demo, the preview and the app
    (:mod:`media.render`): magnification and background."""
    add_flag(parser, 'video_scale', type=int_in(1, 8), default=2,
             help='magnification of the 160x210 game frame (2: 320x420, '
                  'plus the caption band under it)')
    add_flag(parser, 'background', choices=('luma', 'colour'),
             default='luma',
             help='luma: the map in its channel (actor green, critic red) '
                  'over the frame\'s luminance, as the original; colour: '
                  'the map added to that channel of the colour frame')


def add_game_flags(parser, archs):
    """``--env`` and ``--arch`` of a tool that loads a checkpoint: the
    checkpoint's own are taken; these are for a ``model.npz`` without
    ``checkpoint.json`` and must agree with a checkpoint that names them."""
    parser.add_argument('--env', default=None,
                        help='game id of a checkpoint without '
                             'checkpoint.json (default: the checkpoint\'s)')
    parser.add_argument('--arch', default=None, choices=archs,
                        help='network of a checkpoint without '
                             'checkpoint.json (default: the checkpoint\'s, '
                             'else FFSoftmax)')


def one_method(methods):
    """The single method of a tool that computes one per run."""
    if len(methods) != 1:
        raise UsageError('--methods: this tool computes one method per run, '
                         'got {} ({}); faithfulness.py compares several'
                         .format(len(methods), ', '.join(methods)))
    return methods[0]


def add_scoring_flags(parser, scoring='auto', scoring_note=''):
    """The flags of batched perturbation scoring on ``parser`` (or an
    argument group): inputs per forward pass, the device, and how masks
    are scored (default ``scoring``; ``scoring_note`` ends its help)."""
    add_flag(parser, 'chunk', type=int_in(1, 4096), default=64,
             help='perturbed inputs per forward pass of the dense scoring '
                  '(perturbation methods)')
    add_flag(parser, 'device', choices=DEVICES, default='cpu',
             help=DEVICE_HELP)
    parser.add_argument('--scoring', choices=SCORINGS, default=scoring,
                        help=SCORING_HELP + scoring_note)


def add_cluster_flags(parser):
    """``--scheduler ADDRESS`` and ``--cluster local[:N]``, one or
    neither (without them nothing runs on Dask, nor is it imported)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--scheduler', metavar='ADDRESS',
                       help='compute the maps on the Dask cluster of this '
                            'running scheduler (e.g. tcp://10.0.0.5:8786)')
    group.add_argument('--cluster', metavar='local[:N]',
                       help='compute the maps on a Dask LocalCluster of N '
                            'worker processes (default: one per core)')


def check_device(device):
    """Refuse, before any work, a ``--device`` this machine cannot run."""
    from kernels.engine import EngineError, providers
    try:
        providers(device)
    except EngineError as e:
        raise UsageError(str(e))


def run_main(parser, run, argv=None):
    """Parse ``argv`` and call ``run(args)``; returns the exit status."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a bad flag already reported
        return e.code
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread \
        else None
    try:
        return run(args)
    except UsageError as e:
        print('{}: error: {}'.format(parser.prog, e), file=sys.stderr)
        return 2
    except OutputError as e:
        print('{}: error: {}'.format(parser.prog, e), file=sys.stderr)
        return 1
    except Terminated:
        print('{}: terminated'.format(parser.prog), file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print('{}: interrupted'.format(parser.prog), file=sys.stderr)
        return 130
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
