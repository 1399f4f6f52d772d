"""Files of today's libraries, written by the tests themselves.

:func:`save_sb3` writes a Stable-Baselines3 2.x ``model.save()`` zip with
its members in their order (``data``, ``pytorch_variables.pth``,
``policy.pth``, ``policy.optimizer.pth``, ``_stable_baselines3_version``,
``system_info.txt``): ``data`` is JSON whose objects carry a
``:serialized:`` base64 pickle beside their plain fields, as SB3 writes
them; each ``.pth`` a ``torch.save`` zip (:func:`torch_writer.save_zip`).
The ``*_state`` functions make random state dicts of each library's
network, named as its ``state_dict()``.
"""
import base64
import collections
import io
import json
import pickle
import zipfile

import numpy as np

from torch_writer import save_zip


def _w(rng, *shape, scale=0.05):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def nature_body(rng, prefix, names=('cnn.0', 'cnn.2', 'cnn.4', 'linear.0'),
                channels=4):
    c1, c2, c3, fc = names
    return collections.OrderedDict([
        (prefix + c1 + '.weight', _w(rng, 32, channels, 8, 8)),
        (prefix + c1 + '.bias', _w(rng, 32)),
        (prefix + c2 + '.weight', _w(rng, 64, 32, 4, 4)),
        (prefix + c2 + '.bias', _w(rng, 64)),
        (prefix + c3 + '.weight', _w(rng, 64, 64, 3, 3)),
        (prefix + c3 + '.bias', _w(rng, 64)),
        (prefix + fc + '.weight', _w(rng, 512, 3136, scale=0.02)),
        (prefix + fc + '.bias', _w(rng, 512))])


def sb3_policy_state(rng, n_actions=6, kind='ppo'):
    """A ``CnnPolicy`` state dict: ``ppo`` (shared extractor: the same
    arrays under ``features_extractor.``, ``pi_`` and ``vf_``), ``sep``
    (``share_features_extractor=False``) or ``dqn``."""
    state = collections.OrderedDict()
    if kind == 'dqn':
        body = nature_body(rng, 'q_net.features_extractor.')
        state.update(body)
        state['q_net.q_net.0.weight'] = _w(rng, n_actions, 512, scale=0.1)
        state['q_net.q_net.0.bias'] = _w(rng, n_actions)
        for name, value in list(state.items()):
            state['q_net_target.' + name[len('q_net.'):]] = value.copy()
        return state
    shared = nature_body(rng, '')
    for prefix in ('features_extractor.', 'pi_features_extractor.',
                   'vf_features_extractor.'):
        if kind == 'sep' and prefix == 'vf_features_extractor.':
            body = nature_body(rng, prefix)
        else:
            body = {prefix + k: v for k, v in shared.items()}
        state.update(body)
    state['action_net.weight'] = _w(rng, n_actions, 512, scale=0.1)
    state['action_net.bias'] = _w(rng, n_actions)
    state['value_net.weight'] = _w(rng, 1, 512, scale=0.1)
    state['value_net.bias'] = _w(rng, 1)
    return state


def _serialized(obj):
    return base64.b64encode(pickle.dumps(obj)).decode('ascii')


def sb3_data(n_actions=6, shape=(4, 84, 84), planted=None):
    """The ``data`` JSON of a save: plain fields and ``:serialized:``
    entries (``planted``: an object pickled into them, as a malicious
    file carries)."""
    payload = _serialized(planted if planted is not None else 'spaces')
    return {
        'policy_class': {':type:': "<class 'abc.ABCMeta'>",
                         ':serialized:': payload,
                         '__module__': 'stable_baselines3.common.policies'},
        'observation_space': {
            ':type:': "<class 'gymnasium.spaces.box.Box'>",
            ':serialized:': payload, 'dtype': 'uint8',
            '_shape': list(shape)},
        'action_space': {
            ':type:': "<class 'gymnasium.spaces.discrete.Discrete'>",
            ':serialized:': payload, 'dtype': 'int64', 'n': str(n_actions),
            'start': '0', '_shape': []},
        'lr_schedule': {':type:': "<class 'function'>",
                        ':serialized:': payload},
        'n_envs': 8, 'gamma': 0.99}


def _pth(state):
    buffer = io.BytesIO()
    save_zip(buffer, state)
    return buffer.getvalue()


def save_sb3(path, state, data, members=None):
    """A ``model.save()`` zip of ``state`` (the policy's state dict) and
    ``data``; ``members`` (name -> bytes) replaces or adds members."""
    written = collections.OrderedDict([
        ('data', json.dumps(data).encode()),
        ('pytorch_variables.pth', _pth({})),
        ('policy.pth', _pth(state)),
        ('policy.optimizer.pth', _pth({})),
        ('_stable_baselines3_version', b'2.9.2'),
        ('system_info.txt', b'- OS: test\n')])
    written.update(members or {})
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name, raw in written.items():
            if raw is not None:
                archive.writestr(name, raw)


def cleanrl_state(rng, n_actions=6, dqn=False):
    """``ppo_atari.py``'s ``Agent`` or ``dqn_atari.py``'s ``QNetwork``."""
    state = nature_body(rng, '', ('network.0', 'network.2', 'network.4',
                                  'network.7'))
    if dqn:
        state['network.9.weight'] = _w(rng, n_actions, 512, scale=0.1)
        state['network.9.bias'] = _w(rng, n_actions)
    else:
        state['actor.weight'] = _w(rng, n_actions, 512, scale=0.1)
        state['actor.bias'] = _w(rng, n_actions)
        state['critic.weight'] = _w(rng, 1, 512, scale=0.1)
        state['critic.bias'] = _w(rng, 1)
    return state


def pfrl_state(rng, n_actions=6):
    """PFRL's Atari A3C network (``train_a3c.py``)."""
    pi, v = '7.child_modules.0.0.', '7.child_modules.1.'
    return collections.OrderedDict([
        ('0.weight', _w(rng, 16, 4, 8, 8)), ('0.bias', _w(rng, 16)),
        ('2.weight', _w(rng, 32, 16, 4, 4)), ('2.bias', _w(rng, 32)),
        ('5.weight', _w(rng, 256, 2592, scale=0.02)),
        ('5.bias', _w(rng, 256)),
        (pi + 'weight', _w(rng, n_actions, 256, scale=0.1)),
        (pi + 'bias', _w(rng, n_actions)),
        (v + 'weight', _w(rng, 1, 256, scale=0.1)), (v + 'bias', _w(rng, 1))])
