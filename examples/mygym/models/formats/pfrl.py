"""``pfrl``: PFRL's Atari A3C ``model.pt`` (``agent.save()`` writes it in a
folder; ``train_a3c.py``'s network: ChainerRL's NIPS head written in
PyTorch, a ``Branched`` policy and value), into ``--arch ChainerRLFF``."""
import os

from models.formats.arrays import (ImportFailure, expect, found, rows,
                                   torch_names, torch_state)
from models.protocol import PRESETS

NAME = 'pfrl'
HELP = ('PFRL Atari A3C model.pt (or the folder agent.save() wrote) -> '
        '--arch ChainerRLFF')
FILE = ('PFRL\'s Atari A3C `model.pt` (or the folder `agent.save()` '
        'wrote)')
NETWORK = '`ChainerRLFF`: NIPS head (2 ReLU convolutions, dense 256)'
PROTOCOL = PRESETS['pfrl']
PROTOCOL_NAME = 'pfrl'
PI, V = '7.child_modules.0.0.', '7.child_modules.1.'


def model_file(path):
    """``path``, or the ``model.pt`` of a folder PFRL saved."""
    if os.path.isdir(path):
        return os.path.join(path, 'model.pt')
    return path


def recognise(path):
    names = torch_names(model_file(path))
    return bool(names) and '0.weight' in names and PI + 'weight' in names


def convert(state):
    n_actions = rows(state, PI + 'weight')
    if n_actions is None:
        raise ImportFailure('not PFRL\'s Atari A3C network (the state dict '
                            'holds {})'.format(found(state)))
    s = expect(state, {
        '0.weight': (16, 4, 8, 8), '0.bias': (16,),
        '2.weight': (32, 16, 4, 4), '2.bias': (32,),
        '5.weight': (256, 2592), '5.bias': (256,),
        PI + 'weight': (n_actions, 256), PI + 'bias': (n_actions,),
        V + 'weight': (1, 256), V + 'bias': (1,)},
        'PFRL\'s Atari A3C network')
    arrays = {}
    for k, name in enumerate(('0', '2', '5')):
        arrays['0/{}/W'.format(k)] = s[name + '.weight']
        arrays['0/{}/b'.format(k)] = s[name + '.bias']
    arrays['1/model/output/W'] = s[PI + 'weight']
    arrays['1/model/output/b'] = s[PI + 'bias']
    arrays['2/model/output/W'] = s[V + 'weight']
    arrays['2/model/output/b'] = s[V + 'bias']
    return 'ChainerRLFF', n_actions, arrays


def read(path):
    path = model_file(path)
    if not os.path.isfile(path):
        raise ImportFailure('no model.pt in {}'.format(os.path.dirname(path)))
    return convert(torch_state(path))
