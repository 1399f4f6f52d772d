"""Agent checkpoints that survive crashes and say what they hold.

A checkpoint is a folder with ``model.npz``, usually ``optimizer.npz`` (absent
in a weights-only agent), and ``checkpoint.json``: the game id, architecture,
number of actions, frame buffer length and the global step it was saved at.
Saving writes a sibling temporary folder and swaps it in with renames, so a
crash mid-save leaves the previous checkpoint intact.
"""
import json
import os
import re
import shutil

import chainer
from chainerrl.misc import copy_param

INFO_FILE = 'checkpoint.json'


class CheckpointError(ValueError):
    """A checkpoint is missing or does not fit the agent."""


class AtomicCheckpointMixin:
    """Mix into a ChainerRL agent with ``saved_attributes`` (e.g. A3C).

    Attributes:
        checkpoint_info (dict): written into ``checkpoint.json``.
        global_step (int): kept current by the training hooks; saved too.
    """

    checkpoint_info = None
    global_step = 0

    def save(self, dirname):
        dirname = os.path.normpath(dirname)
        tmp = '{}.tmp-{}'.format(dirname, os.getpid())
        old = '{}.old-{}'.format(dirname, os.getpid())
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            super().save(tmp)
            info = dict(self.checkpoint_info or {})
            info['steps'] = int(self.global_step)
            with open(os.path.join(tmp, INFO_FILE), 'w') as f:
                json.dump(info, f, indent=1, sort_keys=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if os.path.exists(dirname):
            os.rename(dirname, old)
        os.rename(tmp, dirname)
        shutil.rmtree(old, ignore_errors=True)

    def load(self, dirname, require_optimizer=False):
        """Load weights (strictly) and, when present, the optimizer state.

        Raises:
            CheckpointError: missing folder or files, or arrays that do not
                fit the model (another game's action count, another arch).
        """
        model_file = os.path.join(dirname, 'model.npz')
        if not os.path.isdir(dirname):
            raise CheckpointError('no checkpoint folder at {}'.format(dirname))
        if not os.path.isfile(model_file):
            raise CheckpointError(
                'no model.npz in {} (not an agent checkpoint)'.format(dirname))
        info = read_checkpoint_info(dirname)
        expected = self.checkpoint_info or {}
        for key in ('arch', 'n_actions', 'frame_buffer_length'):
            if key in info and key in expected and info[key] != expected[key]:
                raise CheckpointError(
                    'checkpoint {} has {}={} but this run needs {}={}'.format(
                        dirname, key, info[key], key, expected[key]))
        try:
            chainer.serializers.load_npz(model_file, self.model)
        except (ValueError, KeyError) as e:
            raise CheckpointError(
                'checkpoint {} does not fit this model ({}): {}'.format(
                    dirname, _describe(expected), e))
        # A3C acts with its local ``model`` but trains ``shared_model``
        # (the optimizer's target), from which every worker re-syncs its
        # local copy: the loaded weights must reach the shared one too, or a
        # resumed run silently starts again from the initial weights.
        shared = getattr(self, 'shared_model', None)
        if shared is not None and shared is not self.model:
            copy_param.copy_param(target_link=shared, source_link=self.model)
            # Let the agent drop anything it derived from the old weights.
            self.sync_parameters()
        optimizer_file = os.path.join(dirname, 'optimizer.npz')
        if os.path.isfile(optimizer_file):
            # Before its first update an optimizer has no state to restore.
            try:
                chainer.serializers.load_npz(optimizer_file, self.optimizer,
                                             strict=False)
            except ValueError as e:
                raise CheckpointError('optimizer state in {} does not fit: '
                                      '{}'.format(dirname, e))
        elif require_optimizer:
            raise CheckpointError('no optimizer.npz in {}'.format(dirname))
        self.global_step = checkpoint_steps(dirname)


def _describe(info):
    return ', '.join('{}={}'.format(k, info[k]) for k in sorted(info))


def read_checkpoint_info(dirname):
    """The ``checkpoint.json`` of a folder as a dict ({} if it has none).

    Raises:
        CheckpointError: the file is unreadable or not a JSON object.
    """
    path = os.path.join(dirname, INFO_FILE)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path) as f:
            info = json.load(f)
    except (OSError, ValueError) as e:
        raise CheckpointError('cannot read {}: {}'.format(path, e))
    if not isinstance(info, dict):
        raise CheckpointError('{} is not a JSON object'.format(path))
    return info


def checkpoint_steps(dirname):
    """Global step a checkpoint was saved at.

    From ``checkpoint.json``, else from a ChainerRL-style folder name
    (``300_finish``, ``1000_except``), else 0.
    """
    info = read_checkpoint_info(dirname)
    if 'steps' in info:
        return int(info['steps'])
    match = re.match(r'^(\d+)_', os.path.basename(os.path.normpath(dirname)))
    return int(match.group(1)) if match else 0
