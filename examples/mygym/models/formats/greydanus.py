"""``greydanus``: the LSTM ``NNPolicy`` of Greydanus et al.'s
visualize_atari (``torch.save``, either of PyTorch's formats), into
``--arch LSTM``.

PyTorch's ``LSTMCell`` stacks its gates as blocks ``[i; f; g; o]`` with
two biases; Chainer's ``LSTM`` interleaves them per unit as ``(a, i, f,
o)`` (``a`` the cell input, PyTorch's ``g``) with one bias: rows are
reordered (:func:`chainer_gate_order`) and the biases summed, so that
logits, value and the next state are PyTorch's.
"""
import numpy as np

from models.formats.arrays import (ImportFailure, expect, rows, torch_names,
                                   torch_state)
from models.protocol import PRESETS

NAME = 'greydanus'
HELP = ('visualize_atari\'s LSTM NNPolicy, torch.save .tar (zip or '
        'legacy) -> --arch LSTM')
ARCH = 'LSTM'
PROTOCOL = PRESETS['greydanus']
FILE = "visualize_atari's LSTM `NNPolicy` (either `torch.save` format)"
NETWORK = '`LSTM`: 4 ELU convolutions, LSTM of 256, heads'
PROTOCOL_NAME = 'greydanus'
WHAT = 'a visualize_atari NNPolicy state dict'


def nnpolicy_shapes(n_actions, cell):
    """The names and shapes of an ``NNPolicy`` (visualize_atari's or
    baby-a3c's: four 3x3 convolutions of 32, a cell, two linear heads)
    with the cell's arrays ``cell`` (name -> shape)."""
    out = {'conv1.weight': (32, 1, 3, 3), 'conv1.bias': (32,)}
    for k in (2, 3, 4):
        out['conv{}.weight'.format(k)] = (32, 32, 3, 3)
        out['conv{}.bias'.format(k)] = (32,)
    out.update(cell)
    out.update({
        'critic_linear.weight': (1, 256), 'critic_linear.bias': (1,),
        'actor_linear.weight': (n_actions, 256),
        'actor_linear.bias': (n_actions,)})
    return out


def nnpolicy_arrays(state, cell, what):
    """``(checked state, n_actions, arrays)``: an ``NNPolicy`` state dict
    checked against :func:`nnpolicy_shapes` and its convolutions and heads
    as the suite's arrays (``0/k`` the convolutions, ``2`` the policy,
    ``3`` the value; the caller adds the cell's, ``1/...``)."""
    n_actions = rows(state, 'actor_linear.weight')
    if n_actions is None:
        expect(state, nnpolicy_shapes(1, cell), what)  # names what is missing
        raise ImportFailure('no actor_linear.weight matrix: not ' + what)
    s = expect(state, nnpolicy_shapes(n_actions, cell), what)
    arrays = {}
    for k in range(4):
        arrays['0/{}/W'.format(k)] = s['conv{}.weight'.format(k + 1)]
        arrays['0/{}/b'.format(k)] = s['conv{}.bias'.format(k + 1)]
    arrays['2/model/output/W'] = s['actor_linear.weight']
    arrays['2/model/output/b'] = s['actor_linear.bias']
    arrays['3/model/output/W'] = s['critic_linear.weight']
    arrays['3/model/output/b'] = s['critic_linear.bias']
    return s, n_actions, arrays


CELL = {'lstm.weight_ih': (1024, 800), 'lstm.weight_hh': (1024, 256),
        'lstm.bias_ih': (1024,), 'lstm.bias_hh': (1024,)}


def chainer_gate_order(n_units):
    """Row ``r`` of Chainer's LSTM weights is row ``order[r]`` of
    PyTorch's: unit ``k``'s ``(a, i, f, o)`` rows are PyTorch's rows
    ``2n + k``, ``k``, ``n + k`` and ``3n + k``."""
    k = np.arange(n_units)
    return np.stack([2 * n_units + k, k, n_units + k, 3 * n_units + k],
                    axis=1).reshape(-1)


def recognise(path):
    names = torch_names(path)
    return bool(names) and 'lstm.weight_ih' in names \
        and 'actor_linear.weight' in names


def convert(state):
    """``(arch, n_actions, arrays)``: the suite's ``LSTM`` arrays (names
    as in ``model.npz``) of a visualize_atari ``NNPolicy`` state dict."""
    if any(name.startswith('gru.') for name in state):
        raise ImportFailure('a GRU policy (baby-a3c\'s NNPolicy): import '
                            'it as baby-a3c')
    s, n_actions, arrays = nnpolicy_arrays(state, CELL, WHAT)
    order = chainer_gate_order(256)
    arrays['1/upward/W'] = s['lstm.weight_ih'][order]
    arrays['1/upward/b'] = (s['lstm.bias_ih'] + s['lstm.bias_hh'])[order]
    arrays['1/lateral/W'] = s['lstm.weight_hh'][order]
    return ARCH, n_actions, arrays


def read(path):
    return convert(torch_state(path))
