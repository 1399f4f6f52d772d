"""Agents trained elsewhere, turned into this suite's checkpoints.

Each format reads a file without running anything it carries and maps its
arrays onto one of the suite's networks (:data:`networks.ARCHS`), name by
name and shape by shape:

* ``greydanus``: the ``NNPolicy`` state dict of Greydanus et al.'s
  visualize_atari (``torch.save``, either of PyTorch's formats, read by
  :mod:`models.torch_files`) into ``--arch LSTM``. PyTorch's
  ``LSTMCell`` stacks its gates as blocks ``[i; f; g; o]`` with two
  biases; Chainer's ``LSTM`` interleaves them per unit as ``(a, i, f, o)``
  (``a`` the cell input, PyTorch's ``g``) with one bias: rows are
  reordered and the biases summed, so that logits, value and the next
  state are PyTorch's.
* ``safetensors``: the same names in a ``.safetensors`` file (the
  ``safetensors`` package's NumPy reader).
* ``chainerrl``: the ``model.npz`` of ChainerRL's Atari A3C example
  (``A3CFF`` or ``A3CLSTM`` with the NIPS DQN head), read with
  ``allow_pickle=False``, into ``ChainerRLFF`` / ``ChainerRLLSTM``.

:data:`PROTOCOLS` says how each format's agent saw the game
(:mod:`models.protocol`); it is written into ``checkpoint.json`` so that
every tool plays the agent as it was trained.
"""
import numpy as np

from models.checkpoint import CheckpointError, read_npz
from models.torch_files import TorchFileError, read_state_dict

FORMATS = ('greydanus', 'chainerrl', 'safetensors')

PROTOCOLS = {
    # visualize_atari: gym's Breakout-v0 steps 2..4 frames (no max-pooling,
    # no no-ops) and prepro(img) = cv2.resize(img[35:195].mean(2), (80,
    # 80)) / 255, one frame.
    'greydanus': {'crop_rows': [35, 195], 'gray': 'mean',
                  'resize': 'bilinear', 'size': 80, 'frame_skip': [2, 4],
                  'max_pool': False, 'noop_max': 0},
    # ChainerRL's atari_wrappers: 30 no-ops, 4 frames with the maximum of
    # the last two, COLOR_RGB2GRAY, INTER_AREA to 84x84, 4 stacked.
    'chainerrl': {'crop_rows': None, 'gray': 'bt601', 'resize': 'area',
                  'size': 84, 'frame_skip': 4, 'max_pool': True,
                  'noop_max': 30},
}
PROTOCOLS['safetensors'] = PROTOCOLS['greydanus']


class ImportFailure(ValueError):
    """A file that is not an agent of the format asked for."""


def _float32(name, array):
    array = np.asarray(array)
    if array.dtype.kind != 'f':
        raise ImportFailure('array {} is {}, not floating point'.format(
            name, array.dtype))
    if not np.isfinite(array).all():
        raise ImportFailure('array {} holds non-finite values'.format(name))
    return array.astype(np.float32)


def _expect(state, shapes):
    """Check that ``state`` holds exactly the arrays of ``shapes`` (name ->
    shape, None for a size read from the file); returns them as float32."""
    extra = sorted(set(state) - set(shapes))
    missing = sorted(set(shapes) - set(state))
    if extra or missing:
        raise ImportFailure('; '.join(text for text in (
            'unexpected arrays ' + ', '.join(extra[:4]) if extra else '',
            'missing arrays ' + ', '.join(missing[:4]) if missing else '')
            if text))
    out = {}
    for name, shape in shapes.items():
        array = np.asarray(state[name])
        if array.ndim != len(shape) or any(
                want is not None and got != want
                for got, want in zip(array.shape, shape)):
            raise ImportFailure('array {} is {}, expected {}'.format(
                name, array.shape, tuple('n' if k is None else k
                                         for k in shape)))
        out[name] = _float32(name, array)
    return out


def _greydanus_shapes(state):
    n_actions = None
    weight = state.get('actor_linear.weight')
    if weight is not None and np.ndim(weight) == 2:
        n_actions = int(np.shape(weight)[0])
    shapes = {'conv1.weight': (32, 1, 3, 3), 'conv1.bias': (32,)}
    for k in (2, 3, 4):
        shapes['conv{}.weight'.format(k)] = (32, 32, 3, 3)
        shapes['conv{}.bias'.format(k)] = (32,)
    shapes.update({
        'lstm.weight_ih': (1024, 800), 'lstm.weight_hh': (1024, 256),
        'lstm.bias_ih': (1024,), 'lstm.bias_hh': (1024,),
        'critic_linear.weight': (1, 256), 'critic_linear.bias': (1,),
        'actor_linear.weight': (n_actions, 256),
        'actor_linear.bias': (n_actions,)})
    return shapes, n_actions


def chainer_gate_order(n_units):
    """Row ``r`` of Chainer's LSTM weights is row ``order[r]`` of
    PyTorch's: unit ``k``'s ``(a, i, f, o)`` rows are PyTorch's rows
    ``2n + k``, ``k``, ``n + k`` and ``3n + k``."""
    k = np.arange(n_units)
    return np.stack([2 * n_units + k, k, n_units + k, 3 * n_units + k],
                    axis=1).reshape(-1)


def from_greydanus(state):
    """``(arch, n_actions, arrays)``: the suite's ``LSTM`` arrays (names
    as in ``model.npz``) of a visualize_atari ``NNPolicy`` state dict."""
    if any(name.startswith('gru.') for name in state):
        raise ImportFailure('a GRU policy (baby-a3c\'s NNPolicy); the '
                            'LSTM-CNN imports visualize_atari\'s LSTMCell '
                            'policy only')
    shapes, n_actions = _greydanus_shapes(state)
    if n_actions is None:
        raise ImportFailure('no actor_linear.weight matrix: not a '
                            'visualize_atari NNPolicy state dict')
    s = _expect(state, shapes)
    order = chainer_gate_order(256)
    arrays = {}
    for k in range(4):
        arrays['0/{}/W'.format(k)] = s['conv{}.weight'.format(k + 1)]
        arrays['0/{}/b'.format(k)] = s['conv{}.bias'.format(k + 1)]
    arrays['1/upward/W'] = s['lstm.weight_ih'][order]
    arrays['1/upward/b'] = (s['lstm.bias_ih'] + s['lstm.bias_hh'])[order]
    arrays['1/lateral/W'] = s['lstm.weight_hh'][order]
    arrays['2/model/output/W'] = s['actor_linear.weight']
    arrays['2/model/output/b'] = s['actor_linear.bias']
    arrays['3/model/output/W'] = s['critic_linear.weight']
    arrays['3/model/output/b'] = s['critic_linear.bias']
    return 'LSTM', n_actions, arrays


def from_chainerrl(arrays):
    """``(arch, n_actions, arrays)`` of a ChainerRL Atari A3C
    ``model.npz``: ``A3CFF`` (head, policy, value) or ``A3CLSTM`` (head,
    LSTM, policy, value), told apart by the LSTM's arrays."""
    recurrent = '1/upward/W' in arrays
    pi, v = ('2', '3') if recurrent else ('1', '2')
    weight = arrays.get(pi + '/model/output/W')
    if weight is None or np.ndim(weight) != 2:
        raise ImportFailure('no {}/model/output/W matrix: not the model.npz '
                            'of ChainerRL\'s Atari A3CFF or A3CLSTM'.format(
                                pi))
    n_actions = int(weight.shape[0])
    shapes = {'0/0/W': (16, 4, 8, 8), '0/0/b': (16,),
              '0/1/W': (32, 16, 4, 4), '0/1/b': (32,),
              '0/2/W': (256, 2592), '0/2/b': (256,),
              pi + '/model/output/W': (n_actions, 256),
              pi + '/model/output/b': (n_actions,),
              v + '/model/output/W': (1, 256), v + '/model/output/b': (1,)}
    if recurrent:
        shapes.update({'1/upward/W': (1024, 256), '1/upward/b': (1024,),
                       '1/lateral/W': (1024, 256)})
    return (('ChainerRLLSTM' if recurrent else 'ChainerRLFF'), n_actions,
            _expect(arrays, shapes))


def read_source(fmt, path):
    """``(arch, n_actions, arrays)`` of the agent file ``path`` in format
    ``fmt`` (:data:`FORMATS`).

    Raises:
        ImportFailure: unreadable, refused (a pickle naming anything but
            tensors) or not the network the format names; one line.
    """
    if fmt not in FORMATS:
        raise ImportFailure('unknown format {!r}; choose from {}'.format(
            fmt, ', '.join(FORMATS)))
    if fmt == 'greydanus':
        try:
            state = read_state_dict(path)
        except TorchFileError as e:
            raise ImportFailure('{}: {}'.format(path, e))
        return from_greydanus(state)
    if fmt == 'safetensors':
        return from_greydanus(_read_safetensors(path))
    try:
        arrays = read_npz(path)
    except CheckpointError as e:
        raise ImportFailure(str(e))
    return from_chainerrl(arrays)


def _read_safetensors(path):
    from safetensors.numpy import load_file
    try:
        return load_file(path)
    except Exception as e:      # the package's own errors, truncation
        raise ImportFailure('cannot read {} as safetensors: {}'.format(
            path, str(e).splitlines()[0] if str(e) else type(e).__name__))
