"""``sb3``: a Stable-Baselines3 2.x ``model.save()`` zip of PPO or A2C with
``CnnPolicy`` (shared or separate feature extractors) or of DQN with
``CnnPolicy``, into ``--arch NatureAC``, ``NatureAC2`` or ``NatureQ``.

The zip is read in memory (:mod:`models.formats.archive`: names and
sizes checked, nothing extracted). Its ``policy.pth`` is a ``torch.save``
zip inside it, read by the pickle-free reader. Its ``data`` member is
JSON whose ``:serialized:`` entries are cloudpickle (Stable-Baselines3's
own ``load`` unpickles them: a file can run code that way): they are
never decoded. The action count is the plain field
``action_space.n`` and must agree with the network's; the observation
shape is ``observation_space._shape``.
"""
import json

import numpy as np

from models.formats import nature
from models.formats.archive import open_zip, read_member, zip_names
from models.formats.arrays import (ImportFailure, expect, found, rows,
                                   strip_prefix)
from models.protocol import PRESETS
from models.torch_files import TorchFileError, read_state_dict_bytes

NAME = 'sb3'
HELP = ('Stable-Baselines3 2.x model.save() zip: PPO/A2C CnnPolicy (shared '
        'or separate extractors) or DQN CnnPolicy -> --arch NatureAC, '
        'NatureAC2 or NatureQ')
FILE = ('Stable-Baselines3 2.x `model.save()` zip (PPO, A2C, DQN with '
        '`CnnPolicy`; rl-baselines3-zoo\'s agents)')
NETWORK = ('`NatureAC` (`NatureAC2`: separate extractors) or `NatureQ`: '
           'Nature CNN')
PROTOCOL = PRESETS['sb3']
PROTOCOL_NAME = 'sb3'
NAMES = ('cnn.0', 'cnn.2', 'cnn.4', 'linear.0')
MAX_DATA = 64 << 20


def recognise(path):
    return {'data', 'policy.pth'} <= zip_names(path)


def _plain(data, key, field):
    """A plain (never unpickled) field of ``data[key]``."""
    entry = data.get(key)
    if not isinstance(entry, dict) or field not in entry:
        raise ImportFailure('data has no {}.{} (not a Stable-Baselines3 '
                            'save of a discrete-action agent)'.format(
                                key, field))
    return entry[field]


def spaces(data):
    """``(n_actions, observation shape)`` from the plain JSON fields."""
    try:
        n = int(_plain(data, 'action_space', 'n'))
    except (TypeError, ValueError):
        raise ImportFailure('data\'s action_space.n is not a number')
    shape = _plain(data, 'observation_space', '_shape')
    if not (isinstance(shape, list) and len(shape) == 3
            and all(isinstance(k, int) for k in shape)):
        raise ImportFailure('data\'s observation_space._shape is {!r}, not '
                            '[frames, height, width]'.format(shape))
    return n, shape


def read(path):
    with open_zip(path, path) as archive:
        raw = read_member(archive, 'data', path)
        policy = read_member(archive, 'policy.pth', path)
    if len(raw) > MAX_DATA:
        raise ImportFailure('{}: data is {:,} bytes (refused)'.format(
            path, len(raw)))
    try:
        data = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ImportFailure('{}: data is not JSON ({})'.format(path, e))
    if not isinstance(data, dict):
        raise ImportFailure('{}: data is not a JSON object'.format(path))
    try:
        state = strip_prefix(read_state_dict_bytes(policy))
    except TorchFileError as e:
        raise ImportFailure('{}: policy.pth: {}'.format(path, e))
    return convert(state, *spaces(data))


def _same(state, a, b):
    return all(np.array_equal(state[a + n + s], state[b + n + s])
               for n in NAMES for s in ('.weight', '.bias'))


def convert(state, declared_actions, shape):
    """``(arch, n_actions, arrays)`` of a policy's state dict, checked
    against the save's declared action count and observation shape."""
    q = 'q_net.q_net.0.weight' in state
    if not q and 'action_net.weight' not in state:
        raise ImportFailure('not a CnnPolicy of PPO, A2C or DQN (the state '
                            'dict holds {})'.format(found(state)))
    n_actions = rows(state, 'q_net.q_net.0.weight' if q
                     else 'action_net.weight')
    if n_actions != declared_actions:
        raise ImportFailure('the save\'s action_space has {} actions but its '
                            'network {}'.format(declared_actions, n_actions))
    if shape[1:] != [84, 84]:
        raise ImportFailure('observations of {}: the Nature CNN reads '
                            '84x84 frames'.format(shape))
    channels = shape[0]
    what = 'a Stable-Baselines3 CnnPolicy'
    if q:
        shapes = nature.body_shapes('q_net.features_extractor.', NAMES,
                                    channels)
        shapes.update({'q_net.q_net.0.weight': (n_actions, 512),
                       'q_net.q_net.0.bias': (n_actions,)})
        # The target network is a copy: not part of the agent that acts.
        s = expect({k: v for k, v in state.items()
                    if not k.startswith('q_net_target.')}, shapes, what)
        return 'NatureQ', n_actions, nature.arrays(
            nature.body(s, 'q_net.features_extractor.', NAMES),
            (s['q_net.q_net.0.weight'], s['q_net.q_net.0.bias']))
    heads = {'action_net.weight': (n_actions, 512),
             'action_net.bias': (n_actions,),
             'value_net.weight': (1, 512), 'value_net.bias': (1,)}
    prefixes = ['features_extractor.', 'pi_features_extractor.',
                'vf_features_extractor.']
    shapes = dict(heads)
    for prefix in prefixes:
        if any(k.startswith(prefix) for k in state):
            shapes.update(nature.body_shapes(prefix, NAMES, channels))
    s = expect(state, shapes, what)
    policy = (s['action_net.weight'], s['action_net.bias'])
    value = (s['value_net.weight'], s['value_net.bias'])
    pi, vf = 'pi_features_extractor.', 'vf_features_extractor.'
    if pi + 'cnn.0.weight' in s and not _same(s, pi, vf):
        return 'NatureAC2', n_actions, nature.two_towers(
            nature.body(s, pi, NAMES), nature.body(s, vf, NAMES), policy,
            value)
    prefix = pi if pi + 'cnn.0.weight' in s else 'features_extractor.'
    return 'NatureAC', n_actions, nature.arrays(
        nature.body(s, prefix, NAMES), policy, value)
