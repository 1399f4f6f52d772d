"""PyTorch state dicts read without PyTorch, and pickles that carry code
refused before anything runs (the files are written by
:mod:`torch_writer`)."""
import collections
import pickle
import zipfile

import numpy as np
import pytest

from models.torch_files import TorchFileError, read_state_dict
from torch_writer import Planted, save_legacy, save_zip


def _state(rng):
    return collections.OrderedDict([
        ('conv.weight', rng.standard_normal((4, 2, 3, 3)).astype(np.float32)),
        ('conv.bias', rng.standard_normal(4).astype(np.float32)),
        ('fc.weight', rng.standard_normal((3, 5)).astype(np.float32)),
        ('scale', np.array(2.5, dtype=np.float64)),
        ('steps', np.array([7, 9], dtype=np.int64))])


@pytest.mark.parametrize('save', [save_zip, save_legacy])
@pytest.mark.parametrize('shared', [False, True])
def test_both_formats_read_exactly(tmp_path, save, shared):
    state = _state(np.random.default_rng(0))
    path = str(tmp_path / 'agent.tar')
    save(path, state, shared=shared)
    read = read_state_dict(path)
    assert list(read) == list(state)
    for name, array in state.items():
        assert read[name].dtype == array.dtype
        np.testing.assert_array_equal(read[name], array)


def test_a_planted_call_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / 'ran'
    path = str(tmp_path / 'planted.tar')
    save_zip(path, _state(np.random.default_rng(1)),
             extra=Planted('touch {}'.format(marker)))
    with pytest.raises(TorchFileError, match=r'refused: the pickle names '
                                             r'posix\.system'):
        read_state_dict(path)
    assert not marker.exists()
    # The same payload in the legacy format.
    legacy = str(tmp_path / 'planted-legacy.tar')
    save_legacy(legacy, _state(np.random.default_rng(1)),
                data_pickle=pickle.dumps(Planted('touch {}'.format(marker)),
                                         protocol=2))
    with pytest.raises(TorchFileError, match='refused'):
        read_state_dict(legacy)
    assert not marker.exists()


@pytest.mark.parametrize('payload', [
    # An extra global: builtins.eval called on a string.
    b'\x80\x02cbuiltins\neval\nX\x0b\x00\x00\x00print("hi")\x85R.',
    # A reduce through copyreg's reconstructor (protocol-0 objects).
    b'\x80\x02ccopyreg\n_reconstructor\ncos\nPathLike\ncbuiltins\nobject\n'
    b'N\x87R.',
    # A persistent id that is not a storage.
    b'\x80\x02X\x03\x00\x00\x00abcQ.',
])
def test_planted_pickles_are_refused(tmp_path, payload):
    path = str(tmp_path / 'planted.tar')
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('archive/data.pkl', payload)
    with pytest.raises(TorchFileError, match='refused'):
        read_state_dict(path)


def test_damaged_files_are_one_line_errors(tmp_path):
    state = _state(np.random.default_rng(2))
    for save in (save_zip, save_legacy):
        path = str(tmp_path / 'whole.tar')
        save(path, state)
        data = open(path, 'rb').read()
        for cut in (len(data) // 2, len(data) - 7, 30):
            short = str(tmp_path / 'short.tar')
            with open(short, 'wb') as f:
                f.write(data[:cut])
            with pytest.raises(TorchFileError) as e:
                read_state_dict(short)
            assert '\n' not in str(e.value)
    # A storage shorter than the pickle says.
    path = str(tmp_path / 'lying.tar')
    save_zip(path, state)
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    entries['archive/data/0'] = entries['archive/data/0'][:-4]
    with zipfile.ZipFile(path, 'w') as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(TorchFileError, match='storage 0 holds'):
        read_state_dict(path)
    with pytest.raises(TorchFileError, match='cannot read'):
        read_state_dict(str(tmp_path / 'absent.tar'))
