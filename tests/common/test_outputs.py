"""Outputs whole or not at all; signals held back while a file finishes."""
import errno
import gc
import os
import sys
import signal

import numpy as np
import pytest

from common import outputs
from common.outputs import (OutputError, save_npz, signals_deferred,
                            written_whole)


def test_save_npz_replaces_only_when_whole(tmp_path, monkeypatch):
    path = tmp_path / 'maps.npz'
    save_npz(path, a=np.arange(3))
    real = np.lib.format.write_array

    def full_disk(f, array, **kwargs):
        real(f, array, **kwargs)
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(np.lib.format, 'write_array', full_disk)
    with pytest.raises(OutputError, match='No space left on device'):
        save_npz(path, a=np.arange(5))
    np.testing.assert_array_equal(np.load(path)['a'], [0, 1, 2])
    assert os.listdir(tmp_path) == ['maps.npz']


def test_save_npz_writes_what_numpy_reads_without_pickles(tmp_path):
    path = tmp_path / 'maps.npz'
    save_npz(path, a=np.arange(6, dtype=np.float32).reshape(2, 3),
             meta=np.array('{"k": 1}'))
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ['a', 'meta']
        np.testing.assert_array_equal(data['a'], [[0, 1, 2], [3, 4, 5]])
        assert data['a'].dtype == np.float32
        assert str(data['meta']) == '{"k": 1}'
    with pytest.raises(ValueError):
        save_npz(tmp_path / 'o.npz', o=np.array([{}], dtype=object))


def test_ctrl_c_inside_save_npz_leaves_no_archive_open(tmp_path,
                                                       monkeypatch):
    # NumPy's savez left its ZipFile open on Ctrl-C, and the process
    # printed "Exception ignored in: ZipFile.__del__" at exit.
    real = np.lib.format.write_array
    calls = []

    def interrupted(f, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(f, array, **kwargs)
    monkeypatch.setattr(np.lib.format, 'write_array', interrupted)
    unraisable = []
    monkeypatch.setattr(sys, 'unraisablehook', unraisable.append)

    def save():     # the traceback, and what it holds, ends here
        try:
            save_npz(tmp_path / 'maps.npz', a=np.arange(3), b=np.arange(4))
        except KeyboardInterrupt:
            return True
    assert save()
    gc.collect()
    assert [str(u.exc_value) for u in unraisable] == []
    assert os.listdir(tmp_path) == []


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
