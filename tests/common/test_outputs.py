"""Outputs whole or not at all; signals held back while a file finishes."""
import errno
import os
import signal

import numpy as np
import pytest

from common import outputs
from common.outputs import (OutputError, save_npz, signals_deferred,
                            written_whole)


def test_save_npz_replaces_only_when_whole(tmp_path, monkeypatch):
    path = tmp_path / 'maps.npz'
    save_npz(path, a=np.arange(3))
    real = np.savez_compressed

    def full_disk(f, **arrays):
        real(f, **arrays)
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(np, 'savez_compressed', full_disk)
    with pytest.raises(OutputError, match='No space left on device'):
        save_npz(path, a=np.arange(5))
    np.testing.assert_array_equal(np.load(path)['a'], [0, 1, 2])
    assert os.listdir(tmp_path) == ['maps.npz']


def test_an_exception_inside_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with written_whole(tmp_path / 'x.bin') as tmp:
            open(tmp, 'wb').write(b'half')
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_signals_wait_for_the_block():
    seen = []
    with pytest.raises(KeyboardInterrupt):
        with signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            seen.append('block finished')
    assert seen == ['block finished']
    # Outside the block Ctrl-C is as before.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_temporary_names_are_hidden_and_keep_the_extension():
    name = outputs.temporary_name('/a/b/episode-000-actor.mp4')
    assert os.path.dirname(name) == '/a/b'
    assert os.path.basename(name).startswith('.episode-000-actor.part-')
    assert name.endswith('.mp4')
