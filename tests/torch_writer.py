"""Files of other code bases, written by the tests themselves.

:func:`save_zip` and :func:`save_legacy` write the two formats of
``torch.save`` without PyTorch (``tests/reference/torch_greydanus.py``
checks the reader against real ``torch.save`` files);
:func:`greydanus_state` is a random state dict of visualize_atari's
``NNPolicy``; :class:`Planted` pickles as a call of ``os.system``, what a
malicious checkpoint carries.
"""
import collections
import contextlib
import io
import os
import pickle
import struct
import sys
import types
import zipfile

import numpy as np

from models.torch_files import LEGACY_MAGIC, LEGACY_PROTOCOL

_STORAGES = {np.dtype(np.float32): 'FloatStorage',
             np.dtype(np.float64): 'DoubleStorage',
             np.dtype(np.int64): 'LongStorage'}


@contextlib.contextmanager
def _fake_torch():
    """Modules ``torch`` and ``torch._utils`` with the names a state dict's
    pickle refers to, so that ``pickle`` writes those globals; removed
    afterwards (nothing else sees them)."""
    torch = types.ModuleType('torch')
    utils = types.ModuleType('torch._utils')

    def _rebuild_tensor_v2(*args):
        raise AssertionError('never called')
    _rebuild_tensor_v2.__module__ = 'torch._utils'
    _rebuild_tensor_v2.__qualname__ = '_rebuild_tensor_v2'
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for name in _STORAGES.values():
        setattr(torch, name, type(name, (), {'__module__': 'torch'}))
    torch._utils = utils
    saved = {k: sys.modules.get(k) for k in ('torch', 'torch._utils')}
    sys.modules.update({'torch': torch, 'torch._utils': utils})
    try:
        yield torch, utils
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


class _Storage:
    def __init__(self, key, array):
        self.key, self.array = key, array


class _Tensor:
    """Pickles as PyTorch's tensors do: ``_rebuild_tensor_v2(storage,
    offset, size, stride, requires_grad, hooks)``."""

    def __init__(self, rebuild, storage, offset, size, stride):
        self.args = (rebuild, storage, offset, size, stride)

    def __reduce__(self):
        rebuild, storage, offset, size, stride = self.args
        return rebuild, (storage, offset, size, stride, False,
                         collections.OrderedDict())


def _tensors(state, utils, shared=False):
    """``state`` (name -> array) as :class:`_Tensor` over storages; with
    ``shared`` all float32 arrays share one storage (offsets), and 2-D ones
    are stored transposed (strides), as views are."""
    storages, tensors = [], collections.OrderedDict()
    pool = None
    for name, array in state.items():
        array = np.asarray(array)
        if shared and array.dtype == np.float32 and array.ndim == 2:
            flat = np.ascontiguousarray(array.T).reshape(-1)
            stride = (1, array.shape[0])
        else:
            flat = np.ascontiguousarray(array).reshape(-1)
            stride = tuple(int(np.prod(array.shape[k + 1:]))
                           for k in range(array.ndim))
        if shared and array.dtype == np.float32:
            if pool is None:
                pool = _Storage(str(len(storages)), flat)
                storages.append(pool)
                offset = 0
            else:
                offset = len(pool.array)
                pool.array = np.concatenate([pool.array, flat])
            storage = pool
        else:
            storage = _Storage(str(len(storages)), flat)
            storages.append(storage)
            offset = 0
        tensors[name] = _Tensor(utils._rebuild_tensor_v2, storage, offset,
                                tuple(array.shape), stride)
    return tensors, storages


class _Pickler(pickle.Pickler):
    def __init__(self, f, torch, legacy):
        super().__init__(f, protocol=2)
        self.torch, self.legacy = torch, legacy

    def persistent_id(self, obj):
        if not isinstance(obj, _Storage):
            return None
        kind = getattr(self.torch, _STORAGES[obj.array.dtype])
        pid = ('storage', kind, obj.key, 'cpu', len(obj.array))
        return pid + (None,) if self.legacy else pid


def save_zip(path, state, shared=False, extra=None):
    """``state`` as ``torch.save`` writes it since PyTorch 1.6 (a zip
    archive); ``extra`` (an object) is pickled beside it, for planted
    payloads."""
    with _fake_torch() as (torch, utils):
        tensors, storages = _tensors(state, utils, shared)
        buffer = io.BytesIO()
        _Pickler(buffer, torch, False).dump(
            tensors if extra is None else (tensors, extra))
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('archive/data.pkl', buffer.getvalue())
        archive.writestr('archive/byteorder', 'little')
        for storage in storages:
            archive.writestr('archive/data/' + storage.key,
                             storage.array.astype('<' + storage.array.dtype
                                                  .str[1:]).tobytes())
        archive.writestr('archive/version', '3\n')


def save_legacy(path, state, shared=False, data_pickle=None):
    """``state`` in PyTorch's legacy format: magic number, protocol, system
    information, the pickle, the storage keys, the storages.
    ``data_pickle`` replaces the pickle's bytes (a planted one)."""
    with _fake_torch() as (torch, utils):
        tensors, storages = _tensors(state, utils, shared)
        with open(path, 'wb') as f:
            for value in (LEGACY_MAGIC, LEGACY_PROTOCOL,
                          {'protocol_version': LEGACY_PROTOCOL,
                           'little_endian': True,
                           'type_sizes': {'short': 2, 'int': 4, 'long': 4}}):
                pickle.dump(value, f, protocol=2)
            if data_pickle is None:
                _Pickler(f, torch, True).dump(tensors)
            else:
                f.write(data_pickle)
            pickle.dump([s.key for s in storages], f, protocol=2)
            for storage in storages:
                f.write(struct.pack('<q', len(storage.array)))
                f.write(storage.array.tobytes())


class Planted:
    """Pickles as a call of ``os.system``: what a malicious checkpoint
    carries."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def _nnpolicy_state(rng, cell, gates, n_actions, scale):
    """Random weights of an ``NNPolicy`` whose cell ``cell`` (``lstm``,
    ``gru``) stacks ``gates`` blocks of 256 rows, named as its
    ``state_dict()``."""
    def w(*shape):
        return (rng.standard_normal(shape) * scale).astype(np.float32)
    state = collections.OrderedDict()
    for k in range(1, 5):
        state['conv{}.weight'.format(k)] = w(32, 1 if k == 1 else 32, 3, 3)
        state['conv{}.bias'.format(k)] = w(32)
    rows = 256 * gates
    state.update([(cell + '.weight_ih', w(rows, 800)),
                  (cell + '.weight_hh', w(rows, 256)),
                  (cell + '.bias_ih', w(rows)), (cell + '.bias_hh', w(rows)),
                  ('critic_linear.weight', w(1, 256)),
                  ('critic_linear.bias', w(1)),
                  ('actor_linear.weight', w(n_actions, 256)),
                  ('actor_linear.bias', w(n_actions))])
    return state


def greydanus_state(rng, n_actions=4, scale=0.1):
    """Random weights of visualize_atari's ``NNPolicy`` (an LSTM cell)."""
    return _nnpolicy_state(rng, 'lstm', 4, n_actions, scale)


def baby_a3c_state(rng, n_actions=4, scale=0.1):
    """Random weights of baby-a3c's ``NNPolicy`` (a GRU cell)."""
    return _nnpolicy_state(rng, 'gru', 3, n_actions, scale)
