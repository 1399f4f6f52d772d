"""``baby-a3c``: Greydanus' baby-a3c ``NNPolicy`` (github greydanus/baby-a3c,
``<game>-v4/model.40.tar`` and ``model.80.tar``), into ``--arch GRU``.

The state dict (``torch.save``, either of PyTorch's formats): ``conv1`` ..
``conv4`` (32 filters, 3x3), ``gru.weight_ih`` ``(768, 800)``,
``gru.weight_hh`` ``(768, 256)``, ``gru.bias_ih``, ``gru.bias_hh``
``(768,)`` (gates stacked ``[r | z | n]``), ``critic_linear`` ``(1, 256)``
and ``actor_linear`` ``(A, 256)``. The suite's :class:`GRUCell` keeps
PyTorch's layout, so the arrays map one to one.
"""
from models.formats.arrays import torch_names, torch_state
from models.formats.greydanus import nnpolicy_arrays
from models.protocol import PRESETS

NAME = 'baby-a3c'
HELP = ('baby-a3c\'s GRU NNPolicy, torch.save .tar (model.40.tar, '
        'model.80.tar) -> --arch GRU')
ARCH = 'GRU'
PROTOCOL = PRESETS['greydanus']
FILE = ("baby-a3c's `NNPolicy` (`model.40.tar`, `model.80.tar`; either "
        "`torch.save` format)")
NETWORK = '`GRU`: 4 ELU convolutions, GRU cell of 256, heads'
PROTOCOL_NAME = 'greydanus'
WHAT = 'a baby-a3c NNPolicy state dict'


CELL = {'gru.weight_ih': (768, 800), 'gru.weight_hh': (768, 256),
        'gru.bias_ih': (768,), 'gru.bias_hh': (768,)}


def recognise(path):
    names = torch_names(path)
    return bool(names) and 'gru.weight_ih' in names \
        and 'actor_linear.weight' in names


def convert(state):
    """``(arch, n_actions, arrays)`` of a baby-a3c state dict."""
    s, n_actions, arrays = nnpolicy_arrays(state, CELL, WHAT)
    arrays['1/input/W'] = s['gru.weight_ih']
    arrays['1/input/b'] = s['gru.bias_ih']
    arrays['1/hidden/W'] = s['gru.weight_hh']
    arrays['1/hidden/b'] = s['gru.bias_hh']
    return ARCH, n_actions, arrays


def read(path):
    return convert(torch_state(path))
