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


def add_scoring_flags(parser, chunk_flag='--chunk', scoring='auto',
                      scoring_note=''):
    """The flags of batched perturbation scoring on ``parser`` (or an
    argument group): inputs per forward pass, the device, and how masks
    are scored (default ``scoring``; ``scoring_note`` ends its help)."""
    parser.add_argument(chunk_flag, type=int_in(1, 4096), default=64,
                        help='perturbed inputs per forward pass of the '
                             'dense scoring (perturbation methods)')
    parser.add_argument('--device', choices=DEVICES, default='cpu',
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
