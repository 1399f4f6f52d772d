"""PyTorch state dicts read as NumPy arrays, without PyTorch and without
running anything the file carries.

``torch.save(state_dict, path)`` writes a pickle: loading it with
``torch.load`` (without ``weights_only``) runs whatever callables the
pickle names. :func:`read_state_dict` reads the two formats PyTorch writes:

* the zip archive of PyTorch >= 1.6 (``<name>/data.pkl``, the storages as
  ``<name>/data/<key>``, ``<name>/byteorder``);
* the legacy stream of older versions (or ``_use_new_zipfile_serialization=
  False``): a magic number, a protocol version and system information,
  each pickled, then the object's pickle, the pickled list of storage keys
  and each storage as a little-endian int64 element count and raw bytes.

Both pickles go through :class:`_Unpickler`, which resolves only the
globals a state dict of tensors needs (:data:`ALLOWED`: the ordered dict,
the tensor and parameter rebuilders, the typed storage classes) to stand-ins
written here, and refuses any other before anything is called. Storages
come from the file's own bytes, each size checked against what the pickle
claims; tensors are NumPy copies.
"""
import collections
import io
import pickle
import struct
import zipfile

import numpy as np

# Storage class -> dtype (bfloat16 has no NumPy type and is refused).
STORAGE_DTYPES = {
    'DoubleStorage': np.float64, 'FloatStorage': np.float32,
    'HalfStorage': np.float16, 'LongStorage': np.int64,
    'IntStorage': np.int32, 'ShortStorage': np.int16,
    'CharStorage': np.int8, 'ByteStorage': np.uint8,
    'BoolStorage': np.bool_,
}
LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
LEGACY_PROTOCOL = 1001
# Largest tensor read, in elements (a state dict of this suite's size is
# under 2M; a pickle claiming more than a file holds is refused anyway).
MAX_ELEMENTS = 1 << 28


class TorchFileError(ValueError):
    """Not a PyTorch state dict this reader accepts (damaged, truncated,
    or a pickle that names anything but tensors)."""


class _StorageType:
    """Stand-in for ``torch.FloatStorage`` and its kin: only its dtype."""

    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])


class _Storage:
    """A storage's elements, ``(numel,)`` of its dtype."""

    def __init__(self, array):
        self.array = array


def _check_ints(values, what):
    if not isinstance(values, tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for v in values):
        raise TorchFileError('tensor {} is not a tuple of non-negative '
                             'integers'.format(what))


def _rebuild_tensor(storage, storage_offset, size, stride, *rest):
    """Stand-in for ``torch._utils._rebuild_tensor`` and ``_v2``: the
    strided view of the storage, copied, each index checked in bounds."""
    if not isinstance(storage, _Storage):
        raise TorchFileError('a tensor without a storage of the file')
    if not isinstance(storage_offset, int) or storage_offset < 0:
        raise TorchFileError('tensor storage offset is not an integer')
    _check_ints(size, 'size')
    _check_ints(stride, 'stride')
    if len(size) != len(stride) or len(size) > 8:
        raise TorchFileError('tensor size and stride disagree')
    if len(rest) > 3 or any(not isinstance(r, (bool, dict, type(None),
                                               collections.OrderedDict))
                            or (isinstance(r, dict) and r) for r in rest):
        raise TorchFileError('tensor carries hooks or metadata')
    data = storage.array
    count = int(np.prod(size)) if size else 1
    if count:
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= len(data):
            raise TorchFileError('tensor reaches past its storage ({} of {} '
                                 'elements)'.format(last + 1, len(data)))
    else:
        return np.zeros(size, data.dtype)
    view = np.lib.stride_tricks.as_strided(
        data[storage_offset:], shape=size,
        strides=tuple(s * data.itemsize for s in stride), writeable=False)
    return np.array(view)


def _rebuild_parameter(data, requires_grad, backward_hooks, *rest):
    """Stand-in for ``torch._utils._rebuild_parameter``: its tensor."""
    if not isinstance(data, np.ndarray):
        raise TorchFileError('a parameter without a tensor')
    return data


ALLOWED = {('collections', 'OrderedDict'): collections.OrderedDict,
           ('torch._utils', '_rebuild_tensor'): _rebuild_tensor,
           ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor,
           ('torch._utils', '_rebuild_parameter'): _rebuild_parameter}
ALLOWED.update({('torch', name): _StorageType(name)
                for name in STORAGE_DTYPES})


class _Unpickler(pickle.Unpickler):
    """Resolves the globals of ``table`` (:data:`ALLOWED`) only, storages
    through ``load_storage`` (``persistent id -> _Storage``)."""

    def __init__(self, stream, load_storage, table=None):
        super().__init__(stream)
        self._load_storage = load_storage
        self._table = ALLOWED if table is None else table

    def find_class(self, module, name):
        try:
            return self._table[(module, name)]
        except (KeyError, TypeError):
            raise TorchFileError(
                'refused: the pickle names {}.{}, which a state dict of '
                'tensors does not need (it could run code)'.format(
                    module, name)) from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5
                and pid[0] == 'storage'
                and isinstance(pid[1], _StorageType)
                and isinstance(pid[2], str)
                and isinstance(pid[4], int) and 0 <= pid[4] <= MAX_ELEMENTS):
            raise TorchFileError('refused: a persistent id that is not a '
                                 'storage ({:.60})'.format(repr(pid)))
        return self._load_storage(pid)


def _unpickle(stream, load_storage, table=None):
    """The next pickle of ``stream`` (left just after it)."""
    try:
        return _Unpickler(stream, load_storage, table).load()
    except TorchFileError:
        raise
    except Exception as e:     # truncated, malformed opcodes, bad calls
        raise TorchFileError('not a readable pickle ({}{})'.format(
            type(e).__name__, ': ' + str(e).splitlines()[0] if str(e)
            else ''))


def _no_storage(pid):
    raise TorchFileError('refused: a storage where none may be')


def _read_zip(path):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise TorchFileError('not a readable zip archive ({})'.format(e))
    with archive:
        pickles = [n for n in archive.namelist()
                   if n.endswith('/data.pkl') and n.count('/') == 1]
        if len(pickles) != 1:
            raise TorchFileError('a zip archive without one <name>/data.pkl '
                                 '(not saved by torch.save)')
        prefix = pickles[0][:-len('data.pkl')]
        order = 'little'
        if prefix + 'byteorder' in archive.namelist():
            order = archive.read(prefix + 'byteorder').decode('ascii',
                                                              'replace')
        if order not in ('little', 'big'):
            raise TorchFileError('unknown byte order {!r}'.format(order))

        def load_storage(pid):
            kind, key, numel = pid[1], pid[2], pid[4]
            name = prefix + 'data/' + key
            try:
                declared = archive.getinfo(name).file_size
            except KeyError:
                raise TorchFileError('storage {} is missing'.format(key))
            if declared != numel * kind.dtype.itemsize:
                raise TorchFileError(
                    'storage {} holds {} bytes, the pickle says {} '
                    'elements of {}'.format(key, declared, numel,
                                            kind.dtype))
            try:
                raw = archive.read(name)
            except KeyError:
                raise TorchFileError('storage {} is missing'.format(key))
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise TorchFileError('storage {} unreadable: {}'.format(key,
                                                                        e))
            if len(raw) != numel * kind.dtype.itemsize:
                raise TorchFileError(
                    'storage {} holds {} bytes, the pickle says {} '
                    'elements of {}'.format(key, len(raw), numel,
                                            kind.dtype))
            dtype = kind.dtype.newbyteorder('<' if order == 'little'
                                            else '>')
            return _Storage(np.frombuffer(raw, dtype).astype(kind.dtype))

        try:
            data = archive.read(pickles[0])
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise TorchFileError('data.pkl unreadable: {}'.format(e))
        return _unpickle(io.BytesIO(data), load_storage)


class _Pending:
    """A legacy storage before its bytes are read (they follow the
    pickle): a view of ``size`` elements from ``offset`` of root ``key``."""

    def __init__(self, kind, key, numel, view):
        self.kind, self.key, self.numel, self.view = kind, key, numel, view


def _read_legacy(path):
    with open(path, 'rb') as f:
        stream = io.BytesIO(f.read())
    if _unpickle(stream, _no_storage) != LEGACY_MAGIC:
        raise TorchFileError('not a PyTorch file (no magic number)')
    if _unpickle(stream, _no_storage) != LEGACY_PROTOCOL:
        raise TorchFileError('unknown PyTorch legacy protocol')
    sys_info = _unpickle(stream, _no_storage)
    little = not isinstance(sys_info, dict) or bool(
        sys_info.get('little_endian', True))
    # The storages' bytes follow the pickle: its storages stay pending and
    # its tensors are rebuilt once the bytes are read.
    pending, calls = [], []

    def load_storage(pid):
        view = pid[5] if len(pid) > 5 else None
        if view is not None and not (
                isinstance(view, tuple) and len(view) == 3
                and all(isinstance(v, int) and v >= 0 for v in view[1:])):
            raise TorchFileError('a storage view that is not (key, offset, '
                                 'size)')
        storage = _Storage(None)
        pending.append((storage, _Pending(pid[1], pid[2], pid[4], view)))
        return storage

    def rebuild_later(storage, *args):
        placeholder = _Deferred()
        calls.append((placeholder, storage, args))
        return placeholder

    table = dict(ALLOWED)
    table[('torch._utils', '_rebuild_tensor')] = rebuild_later
    table[('torch._utils', '_rebuild_tensor_v2')] = rebuild_later
    table[('torch._utils', '_rebuild_parameter')] = (
        lambda data, *rest: data)
    obj = _unpickle(stream, load_storage, table)
    keys = _unpickle(stream, _no_storage)
    if not isinstance(keys, list) or not all(isinstance(k, str)
                                             for k in keys):
        raise TorchFileError('no list of storage keys after the pickle')
    order = '<' if little else '>'
    roots = {}
    for key in keys:
        kinds = {p.kind.name: p.kind for _, p in pending if p.key == key}
        if len(kinds) != 1:
            raise TorchFileError('storage {} is used {}'.format(
                key, 'as several types' if kinds else 'nowhere'))
        dtype = next(iter(kinds.values())).dtype
        head = stream.read(8)
        if len(head) != 8:
            raise TorchFileError('truncated: storage {} missing'.format(key))
        numel, = struct.unpack(order + 'q', head)
        if not 0 <= numel <= MAX_ELEMENTS:
            raise TorchFileError('storage {} claims {} elements'.format(
                key, numel))
        raw = stream.read(numel * dtype.itemsize)
        if len(raw) != numel * dtype.itemsize:
            raise TorchFileError('truncated: storage {} is short'.format(key))
        roots[key] = np.frombuffer(raw, dtype.newbyteorder(order)).astype(
            dtype)
    for storage, p in pending:
        root = roots.get(p.key)
        if root is None or p.numel != len(root):
            raise TorchFileError('storage {} is missing or of another '
                                 'size'.format(p.key))
        if p.view is None:
            storage.array = root
        else:
            _, offset, size = p.view
            if offset + size > len(root):
                raise TorchFileError('a storage view past its root')
            storage.array = root[offset:offset + size]
    for placeholder, storage, args in calls:
        placeholder.value = _rebuild_tensor(storage, *args)
    return _resolve(obj)


class _Deferred:
    """A legacy tensor until its storage's bytes are read."""
    value = None


def _resolve(obj):
    """The legacy reader's placeholders replaced by their tensors."""
    if isinstance(obj, _Deferred):
        return obj.value
    if isinstance(obj, dict):
        return {k: _resolve(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_resolve(v) for v in obj)
    return obj


def read_state_dict(path):
    """``{name: np.ndarray}`` of the state dict PyTorch saved at ``path``
    (either format); nested dicts (a ``{'state_dict': ...}`` wrapper) are
    not unwrapped.

    Raises:
        TorchFileError: anything else, in one line (nothing the file names
            is ever called).
    """
    try:
        with open(path, 'rb') as f:
            head = f.read(4)
    except OSError as e:
        raise TorchFileError('cannot read {}: {}'.format(path, e.strerror))
    obj = _read_zip(path) if head[:2] == b'PK' else _read_legacy(path)
    return _checked(obj)


def read_state_dict_bytes(data):
    """:func:`read_state_dict` of a ``torch.save`` zip held in memory (a
    member of another archive: Stable-Baselines3's ``policy.pth``)."""
    if data[:2] != b'PK':
        raise TorchFileError('not a torch.save zip archive')
    return _checked(_read_zip(io.BytesIO(data)))


def _checked(obj):
    if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, np.ndarray)
            for k, v in obj.items()):
        raise TorchFileError('the pickle is not a dict of named tensors')
    return dict(obj)
