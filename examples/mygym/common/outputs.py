"""Outputs written whole or not at all, and signals that wait for them.

Every file the suite writes goes to a temporary name beside its target and
is renamed into place only once complete: a crash, a full disk or Ctrl-C
never leaves a truncated file under the real name, and an earlier file of
the same name stays until its replacement is whole. Failures become one
:class:`OutputError` line.

:func:`signals_deferred` holds Ctrl-C (SIGINT) and SIGTERM back while a
frame or a file is being finished, and delivers them right after, so an
interrupt never lands in the middle of a write.
"""
import contextlib
import os
import signal
import threading
import zipfile

import numpy as np


class OutputError(Exception):
    """An output could not be written (disk full, no permission, ...)."""


def describe(error):
    """One line for an OS error: its message and the file it names."""
    text = getattr(error, 'strerror', None) or str(error).strip()
    text = text.splitlines()[0] if text else type(error).__name__
    name = getattr(error, 'filename', None)
    return '{}: {}'.format(text, name) if name else text


def temporary_name(path):
    """A hidden name beside ``path``, with the same extension."""
    folder, base = os.path.split(os.path.abspath(path))
    stem, ext = os.path.splitext(base)
    name = '.{}.part-{}{}'.format(stem, os.getpid(), ext)
    return os.path.join(folder, name)


@contextlib.contextmanager
def written_whole(path):
    """Yield a temporary path to write; rename it to ``path`` on success,
    remove it on any failure (re-raised; OS errors as OutputError)."""
    tmp = temporary_name(path)
    try:
        yield tmp
        with signals_deferred():
            os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(e, OSError):
            raise OutputError('cannot write {}: {}'.format(
                path, describe(e))) from e
        raise


def save_npz(path, **arrays):
    """A compressed ``.npz`` (what ``np.savez_compressed`` writes, without
    pickles) at ``path``, whole or not at all.

    The archive is closed however the write ends: NumPy's own writer leaves
    its ``ZipFile`` open when Ctrl-C lands inside it, which prints a
    traceback when the process exits.
    """
    with written_whole(path) as tmp:
        with zipfile.ZipFile(tmp, 'w', compression=zipfile.ZIP_DEFLATED,
                             allowZip64=True) as archive:
            for name, array in arrays.items():
                with archive.open(name + '.npy', 'w',
                                  force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(array),
                                              allow_pickle=False)


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGINT and SIGTERM until the block ends, then deliver them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    handlers = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handlers[signum] = signal.signal(
            signum, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        if caught:
            handler = handlers[caught[0]]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(caught[0])
