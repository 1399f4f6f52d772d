"""``cleanrl``: ``torch.save(agent.state_dict())`` of CleanRL's
``ppo_atari.py`` ``Agent`` (``network.0/2/4/7``, ``actor``, ``critic``)
into ``--arch NatureAC``, or of ``dqn_atari.py``'s ``QNetwork``
(``network.0/2/4/7/9``) into ``--arch NatureQ``."""
from models.formats import nature
from models.formats.arrays import (ImportFailure, expect, found, rows,
                                   torch_names, torch_state)
from models.protocol import PRESETS

NAME = 'cleanrl'
HELP = ('CleanRL ppo_atari Agent or dqn_atari QNetwork, torch.save of its '
        'state_dict -> --arch NatureAC or NatureQ')
FILE = ('CleanRL\'s `ppo_atari.py` `Agent` or `dqn_atari.py` `QNetwork`, '
        '`torch.save(state_dict)`')
NETWORK = '`NatureAC` or `NatureQ`: Nature CNN'
PROTOCOL = PRESETS['cleanrl']
PROTOCOL_NAME = 'cleanrl'
NAMES = ('network.0', 'network.2', 'network.4', 'network.7')


def recognise(path):
    names = torch_names(path)
    return bool(names) and 'network.0.weight' in names and (
        'actor.weight' in names or 'network.9.weight' in names)


def convert(state):
    q = 'network.9.weight' in state
    n_actions = rows(state, 'network.9.weight' if q else 'actor.weight')
    if n_actions is None:
        raise ImportFailure('not a CleanRL Atari Agent or QNetwork (the '
                            'state dict holds {})'.format(found(state)))
    shapes = nature.body_shapes('', NAMES)
    what = 'a CleanRL Atari {}'.format('QNetwork' if q else 'Agent')
    if q:
        shapes.update({'network.9.weight': (n_actions, 512),
                       'network.9.bias': (n_actions,)})
        s = expect(state, shapes, what)
        return 'NatureQ', n_actions, nature.arrays(
            nature.body(s, '', NAMES),
            (s['network.9.weight'], s['network.9.bias']))
    shapes.update({'actor.weight': (n_actions, 512),
                   'actor.bias': (n_actions,),
                   'critic.weight': (1, 512), 'critic.bias': (1,)})
    s = expect(state, shapes, what)
    return 'NatureAC', n_actions, nature.arrays(
        nature.body(s, '', NAMES), (s['actor.weight'], s['actor.bias']),
        (s['critic.weight'], s['critic.bias']))


def read(path):
    return convert(torch_state(path))
