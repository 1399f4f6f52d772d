"""Recorded rollouts: what the agent saw and did, step by step, in one file.

``--record-rollout PATH`` in a demo writes an ``.npz`` with, per agent step
``t`` (all episodes of the demo, in order):

* ``frames`` ``(T, 210, 160, 3)`` uint8: the raw RGB frame of step t;
* ``observations`` ``(T, N, S, S)`` uint8: the stacked frames the agent
  acted on at step t;
* ``actions`` ``(T,)``, ``logits`` ``(T, n_actions)`` (pre-softmax action
  scores), ``action_probs`` ``(T, n_actions)``, ``values`` ``(T,)``;
* ``episodes`` ``(T,)``: the episode each step belongs to;
* ``ram`` ``(T, 128)`` uint8: the emulator's RAM at step t (object
  positions: :mod:`objects`);
* for recurrent models, ``recurrent_states`` ``(T, S)`` float32: the flat
  state (:mod:`recurrent_state`) the model had when it saw the observation
  of step t, i.e. before consuming it;
* ``meta``: a JSON string with the game, architecture, checkpoint path,
  number of actions and frame buffer length, so that
  ``saliency_app.py`` can rebuild the model.

The file is written when the demo ends (also on Ctrl-C), whole or not at
all (:func:`outputs.save_npz`).
"""
import json
import os

import numpy as np

from models.checkpoint import read_npz
from common.outputs import save_npz
from common.arrays import non_finite
from saliency.base import policy_scores


class RolloutRecorder:
    """Demo observer that collects a rollout and saves it on close."""

    def __init__(self, path, meta):
        self.path = path
        self.meta = dict(meta)
        self.episode = 0
        self._columns = {name: [] for name in (
            'frames', 'observations', 'actions', 'logits', 'action_probs',
            'values', 'episodes')}

    def observe(self, step):
        """Record one demo step: ``obs``, ``rgb`` and ``result`` (with the
        action taken), as :mod:`demo` passes it."""
        column, result = self._columns, step.result
        column['frames'].append(np.array(step.rgb, copy=True))
        column['observations'].append(np.array(step.obs, dtype=np.uint8))
        column['actions'].append(int(result.action))
        column['logits'].append(np.asarray(
            policy_scores(result.policy).array[0], dtype=np.float32))
        column['action_probs'].append(result.action_probs)
        column['values'].append(result.value)
        column['episodes'].append(self.episode)
        if step.ram is not None:
            column.setdefault('ram', []).append(np.array(step.ram,
                                                         dtype=np.uint8))
        if result.recurrent_state is not None:
            column.setdefault('recurrent_states', []).append(
                np.array(result.recurrent_state, dtype=np.float32))

    def end_episode(self):
        if self._columns['episodes'] and \
                self._columns['episodes'][-1] == self.episode:
            self.episode += 1

    def __len__(self):
        return len(self._columns['actions'])

    def close(self):
        """Write the file (if any step was recorded); returns its path."""
        if not len(self):
            return None
        arrays = {name: np.asarray(values)
                  for name, values in self._columns.items()}
        arrays['values'] = arrays['values'].astype(np.float32)
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        save_npz(self.path, meta=np.array(json.dumps(self.meta)), **arrays)
        return self.path


# Per column: dtype kinds accepted and the shape after the step axis
# (None: any size, ``'n'``: the number of actions, ``'s'``: state size).
_COLUMNS = {
    'frames': ('u', (210, 160, 3)),
    'observations': ('u', None),
    'actions': ('iu', ()),
    'logits': ('f', ('n',)),
    'action_probs': ('f', ('n',)),
    'values': ('f', ()),
    'episodes': ('iu', ()),
    'recurrent_states': ('f', ('s',)),
    'ram': ('u', (128,)),
}
_META = {'arch': str, 'n_actions': int, 'frame_buffer_length': int}


def load_rollout(path):
    """Read and check a rollout: ``(arrays dict, meta dict)``.

    Every column must hold one row per step, of the documented dtype and
    shape; ``meta`` must name the architecture, action count and stacked
    frames. Nothing is unpickled.

    Raises:
        ValueError: not a rollout file, or a damaged or inconsistent one
            (the message says what is wrong, in one line).
    """
    arrays = read_npz(path, 'rollout')  # a ValueError if unreadable
    required = {'frames', 'observations', 'actions', 'meta'}
    if not required <= set(arrays):
        raise ValueError('{} is not a rollout (missing {})'.format(
            path, ', '.join(sorted(required - set(arrays)))))
    try:
        meta = json.loads(str(arrays.pop('meta')))
    except (ValueError, RecursionError) as e:
        raise ValueError('{}: meta is not JSON: {}'.format(path, e))
    if not isinstance(meta, dict):
        raise ValueError('{}: meta is not a JSON object'.format(path))
    for key, kind in _META.items():
        if not isinstance(meta.get(key), kind) or isinstance(
                meta.get(key), bool):
            raise ValueError('{}: meta {} is {!r}, expected {}'.format(
                path, key, meta.get(key), kind.__name__))
    for key in ('checkpoint', 'env'):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise ValueError('{}: meta {} is {!r}, expected a string'
                             .format(path, key, meta[key]))
    for name, array in arrays.items():
        if array.ndim < 1:
            raise ValueError('{}: column {} is a single {} value, expected '
                             'one row per step'.format(path, name,
                                                       array.dtype))
    steps = len(arrays['actions'])
    sizes = {'n': meta['n_actions']}
    if 'recurrent_states' in arrays and arrays['recurrent_states'].ndim:
        sizes['s'] = arrays['recurrent_states'].shape[-1]
    for name, array in arrays.items():
        if name not in _COLUMNS:
            raise ValueError('{}: unknown column {}'.format(path, name))
        kinds, shape = _COLUMNS[name]
        if name == 'observations':
            shape = (meta['frame_buffer_length'],) + array.shape[2:]
        if shape is not None:
            shape = tuple(sizes.get(d, d) for d in shape)
        if array.dtype.kind not in kinds or array.ndim < 1 or \
                len(array) != steps or (shape is not None
                                        and array.shape[1:] != shape):
            raise ValueError(
                '{}: column {} is {} {}, expected {} rows of {} ({})'.format(
                    path, name, array.dtype, array.shape, steps,
                    shape if shape is not None else 'any shape',
                    '/'.join(kinds)))
        problem = non_finite(name, array, kind='column')
        if problem:
            raise ValueError('{}: {}'.format(path, problem))
    if steps == 0:
        raise ValueError('{}: the rollout has no steps'.format(path))
    if (arrays['actions'] < 0).any() or \
            (arrays['actions'] >= meta['n_actions']).any():
        raise ValueError('{}: actions outside 0..{}'.format(
            path, meta['n_actions'] - 1))
    return arrays, meta


def check_fits(observations, recurrent_states, model, frame_buffer_length,
               arch=''):
    """Raise ValueError (one line) unless rollout ``observations``
    ``(T, N, S, S)`` and its ``recurrent_states`` (None if it has none) are
    what ``model`` reads: ``frame_buffer_length`` frames of its input size,
    recorded states exactly when it is recurrent."""
    size = model.input_size
    expected = (frame_buffer_length, size, size)
    if tuple(observations.shape[1:]) != expected:
        raise ValueError('rollout observations are {}, the {}network reads '
                         '{}'.format(tuple(observations.shape[1:]),
                                     arch + ' ' if arch else '', expected))
    if (recurrent_states is None) == model.recurrent:
        raise ValueError(
            'rollout from another architecture: recurrent states {} but '
            'the model is {}'.format(
                'missing' if recurrent_states is None else 'present',
                'recurrent' if model.recurrent else 'feed-forward'))
