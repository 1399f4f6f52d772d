"""Command-line conventions shared by the launcher and the app.

A mistake a user can make (bad flag value, missing file, unknown game) ends
in one line on stderr, ``<prog>: error: <what>``, and exit status 2, never a
traceback; Ctrl-C ends with ``<prog>: interrupted`` and status 130.
"""
import argparse
import sys


class UsageError(Exception):
    """A mistake in the command line or its inputs."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser that reports a bad flag in one line, status 2."""

    def error(self, message):
        self.exit(2, '{}: error: {}\n'.format(self.prog, message))


def int_at_least(minimum):
    """argparse type: an integer >= ``minimum``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                'expected an integer, got {!r}'.format(text))
        if value < minimum:
            raise argparse.ArgumentTypeError(
                'must be >= {}, got {}'.format(minimum, value))
        return value
    return parse


def positive_float(text):
    """argparse type: a float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            'expected a number, got {!r}'.format(text))
    if not value > 0:
        raise argparse.ArgumentTypeError('must be > 0, got {}'.format(text))
    return value


def run_main(parser, run, argv=None):
    """Parse ``argv`` and call ``run(args)``; returns the exit status."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a bad flag already reported
        return e.code
    try:
        return run(args)
    except UsageError as e:
        print('{}: error: {}'.format(parser.prog, e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('{}: interrupted'.format(parser.prog), file=sys.stderr)
        return 130
