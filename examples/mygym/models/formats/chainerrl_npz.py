"""``chainerrl``: the ``model.npz`` of ChainerRL's Atari A3C example
(``A3CFF`` or ``A3CLSTM`` with the NIPS DQN head), read with
``allow_pickle=False``, into ``--arch ChainerRLFF`` / ``ChainerRLLSTM``
(told apart by the LSTM's arrays)."""
import numpy as np

from models.checkpoint import CheckpointError, read_npz
from models.formats.archive import zip_names
from models.formats.arrays import ImportFailure, expect, found
from models.protocol import PRESETS

NAME = 'chainerrl'
HELP = ('model.npz of ChainerRL\'s Atari A3C example (A3CFF / A3CLSTM) '
        '-> --arch ChainerRLFF / ChainerRLLSTM')
PROTOCOL = PRESETS['chainerrl']
FILE = "`model.npz` of ChainerRL's Atari A3C example"
NETWORK = ('`ChainerRLFF` / `ChainerRLLSTM`: NIPS head (2 ReLU convolutions, '
           'dense 256), LSTM or not')
PROTOCOL_NAME = 'chainerrl'


def recognise(path):
    return {'0/0/W.npy', '0/2/W.npy'} <= zip_names(path)


def convert(arrays):
    recurrent = '1/upward/W' in arrays
    pi, v = ('2', '3') if recurrent else ('1', '2')
    weight = arrays.get(pi + '/model/output/W')
    if weight is None or np.ndim(weight) != 2:
        raise ImportFailure('no {}/model/output/W matrix: not the model.npz '
                            'of ChainerRL\'s Atari A3CFF or A3CLSTM (the '
                            'file holds {})'.format(pi, found(arrays)))
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
            expect(arrays, shapes, 'ChainerRL\'s Atari A3C'))


def read(path):
    try:
        arrays = read_npz(path)
    except CheckpointError as e:
        raise ImportFailure(str(e))
    return convert(arrays)
