"""Agent checkpoints that survive crashes, say what they hold, run no code.

A checkpoint is a folder with ``model.npz``, usually ``optimizer.npz`` (absent
in a weights-only agent), and ``checkpoint.json``: the game id, architecture,
number of actions, frame buffer length and the global step it was saved at.
Saving writes a sibling temporary folder and swaps it in with renames, so a
crash mid-save leaves the previous checkpoint intact.

Loading never unpickles (Chainer's ``load_npz`` does, so a downloaded
checkpoint could run code): every array is read with ``allow_pickle=False``
and checked, name by name, for shape, dtype and finite values against the
model or optimizer before anything is copied in. Anything else is a
:class:`CheckpointError`.
"""
import json
import os
import re
import shutil

import chainer
import numpy as np
from chainerrl.misc import copy_param

from common.arrays import names_mismatch, non_finite, shape_mismatch
from models.optimizers import OPTIMIZERS
from models import protocol
from models.networks import ARCHS, DEFAULT_ARCH, weights_changed

INFO_FILE = 'checkpoint.json'


class CheckpointError(ValueError):
    """A checkpoint is missing or does not fit the agent."""


class DamagedFile(CheckpointError):
    """A file that cannot be read at all (damaged, truncated, pickled
    objects): not one that does not fit."""


class AtomicCheckpointMixin:
    """Mix into a ChainerRL agent with ``saved_attributes`` (e.g. A3C).

    Attributes:
        checkpoint_info (dict): written into ``checkpoint.json``.
        global_step (int): kept current by the training hooks; saved too.
    """

    checkpoint_info = None
    global_step = 0

    def save(self, dirname):
        """Write the checkpoint folder atomically.

        Raises:
            CheckpointError: the weights hold NaN or infinite values (the
                previous checkpoint stays as it was).
        """
        for name, param in self.model.namedparams():
            if param.array is not None and not np.isfinite(param.array).all():
                raise CheckpointError('not saving {}: weight {} holds '
                                      'non-finite values'.format(dirname,
                                                                 name))
        dirname = os.path.normpath(dirname)
        tmp = '{}.tmp-{}'.format(dirname, os.getpid())
        old = '{}.old-{}'.format(dirname, os.getpid())
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            super().save(tmp)
            info = dict(self.checkpoint_info or {})
            info['steps'] = int(self.global_step)
            # Written last and renamed into place: a temporary folder that
            # holds checkpoint.json is complete (see recover()).
            part = os.path.join(tmp, INFO_FILE + '.part')
            with open(part, 'w') as f:
                json.dump(info, f, indent=1, sort_keys=True)
            os.replace(part, os.path.join(tmp, INFO_FILE))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if os.path.exists(dirname):
            os.rename(dirname, old)
        os.rename(tmp, dirname)
        shutil.rmtree(old, ignore_errors=True)

    def load(self, dirname):
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
            load_checked(model_file, self.model)
        except DamagedFile as e:
            raise CheckpointError(
                'checkpoint {}: model.npz is damaged or truncated ({}); '
                'copy it again or load another checkpoint'.format(dirname, e))
        except CheckpointError as e:
            raise CheckpointError(
                'checkpoint {} does not fit this model ({}): {}'.format(
                    dirname, _describe(expected), e))
        # A3C acts with its local ``model`` but trains ``shared_model``
        # (the optimizer's target), from which every worker re-syncs its
        # local copy: the loaded weights must reach the shared one too, or a
        # resumed run silently starts again from the initial weights.
        weights_changed(self.model)
        shared = getattr(self, 'shared_model', None)
        if shared is not None and shared is not self.model:
            copy_param.copy_param(target_link=shared, source_link=self.model)
            weights_changed(shared)
            # Let the agent drop anything it derived from the old weights.
            self.sync_parameters()
        optimizer_file = os.path.join(dirname, 'optimizer.npz')
        if os.path.isfile(optimizer_file):
            # Checkpoints written before the choice existed hold RMSprop's.
            saved = info.get('optimizer', 'rmsprop')
            wanted = expected.get('optimizer', saved)
            if saved != wanted:
                raise CheckpointError(
                    'checkpoint {} holds {} state but this run trains with '
                    '--optimizer {}; copy its model.npz and checkpoint.json '
                    'alone to start the optimizer afresh'.format(
                        dirname, saved, wanted))
            try:
                load_checked(optimizer_file, self.optimizer, optimizer=True)
            except CheckpointError as e:
                raise CheckpointError('optimizer state in {} does not fit: '
                                      '{}'.format(dirname, e))
        self.global_step = checkpoint_steps(dirname)


_LEFTOVER = re.compile(r'^(?P<target>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)$')


def _alive(pid):
    """Whether process ``pid`` runs (a zombie, killed but not yet reaped,
    does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/{}/stat'.format(pid)) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return True


def _dead_leftovers(folder):
    """``(name, target, kind)`` of the folder's ``X.tmp-PID`` and
    ``X.old-PID`` entries whose process no longer runs."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in names:
        match = _LEFTOVER.match(name)
        if match and not _alive(int(match['pid'])):
            found.append((name, match['target'], match['kind']))
    return found


def recover(dirname):
    """Finish or undo a save that a killed process left half done.

    A save writes ``X.tmp-PID`` (``checkpoint.json`` last), renames ``X``
    to ``X.old-PID``, renames the temporary folder to ``X``, and removes
    the old one. Killed between the two renames, ``X`` is missing: the
    complete temporary folder (else the old one) becomes ``X`` again. Other
    leftovers of dead processes are removed.
    """
    dirname = os.path.normpath(dirname)
    folder, base = os.path.split(dirname)
    leftovers = [(name, kind) for name, target, kind
                 in _dead_leftovers(folder or '.') if target == base]
    if not leftovers:
        return
    paths = {name: os.path.join(folder, name) for name, _ in leftovers}
    if not os.path.exists(dirname):
        complete = sorted(
            (name for name, kind in leftovers if kind == 'tmp' and
             os.path.isfile(os.path.join(paths[name], INFO_FILE))),
            key=lambda name: os.path.getmtime(paths[name]))
        olds = [name for name, kind in leftovers if kind == 'old']
        chosen = (complete or olds or [None])[-1]
        if chosen is not None:
            os.rename(paths.pop(chosen), dirname)
    for path in paths.values():
        shutil.rmtree(path, ignore_errors=True)


def clean_folder(folder):
    """:func:`recover` every checkpoint of ``folder`` that dead processes
    left leftovers of."""
    for target in sorted({target for _, target, _ in
                          _dead_leftovers(folder)}):
        recover(os.path.join(folder, target))


def read_npz(path, kind=None):
    """Every array of an ``.npz`` file, read without unpickling.

    Raises:
        CheckpointError: not a readable ``.npz`` of plain arrays (damaged,
            truncated, pickled objects, ...); the message names the file
            as a ``kind`` (e.g. ``'rollout'``) if given.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, 'files'):
                raise ValueError('not an .npz archive')
            return {name: np.asarray(data[name]) for name in data.files}
    except Exception as e:  # zip, header, pickle refusals, truncation
        raise DamagedFile('cannot read {}{}: {}'.format(
            kind + ' ' if kind else '', path,
            str(e).splitlines()[0] if str(e) else type(e).__name__))


def _initialise_states(optimizer):
    """Give every update rule its state now (zeros, as the first update
    would), so that the state's arrays can be checked and copied into."""
    for param in optimizer.target.params():
        rule = getattr(param, 'update_rule', None)
        if rule is not None and rule.state is None and \
                param.array is not None:
            rule._state = {}
            rule.init_state(param)


def load_checked(path, target, optimizer=False):
    """Load ``path`` into a link or optimizer, checking every array first.

    The file must hold exactly the arrays ``target`` serializes, each with
    the same shape and dtype and finite values; an optimizer file may lack
    whole state arrays (a checkpoint saved before the first update), which
    then stay as the first update would make them.

    Raises:
        CheckpointError: anything that does not fit, named in one line.
    """
    arrays = read_npz(path)
    if optimizer:
        _initialise_states(target)
    template = chainer.serializers.DictionarySerializer()
    template.save(target)
    expected = {name: np.asarray(value)
                for name, value in template.target.items()}
    want_names = set(expected)
    if optimizer:
        # Counters must be there; state arrays may be absent.
        want_names -= {name for name in set(expected) - set(arrays)
                       if expected[name].ndim != 0}
    mismatch = names_mismatch(arrays, want_names, limit=3)
    if mismatch:
        raise CheckpointError('{}: {}'.format(path, mismatch))
    for name, value in arrays.items():
        want = expected[name]
        problem = (shape_mismatch(name, value, want.shape, want.dtype)
                   or non_finite(name, value))
        if problem:
            raise CheckpointError('{}: {}'.format(path, problem))
    chainer.serializers.NpzDeserializer(arrays, strict=False).load(target)


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
    except (OSError, ValueError, RecursionError) as e:
        raise CheckpointError('cannot read {}: {}'.format(path, e))
    if not isinstance(info, dict):
        raise CheckpointError('{} is not a JSON object'.format(path))
    for key, (kind, low, high) in _INFO_FIELDS.items():
        value = info.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or isinstance(value, bool) or (
                kind is int and not low <= value <= high):
            raise CheckpointError('{}: {} is {!r}, expected {}'.format(
                path, key, value, 'a string' if kind is str else
                'an integer in {}..{}'.format(low, high)))
    if 'protocol' in info:
        arch = ARCHS.get(info.get('arch') or DEFAULT_ARCH)
        if arch is None:
            raise CheckpointError('{}: unknown architecture {!r}'.format(
                path, info.get('arch')))
        try:
            protocol.check(info['protocol'], arch.make_preprocessor().size)
        except protocol.ProtocolError as e:
            raise CheckpointError('{}: {}'.format(path, e))
    imported = info.get('imported_from')
    if imported is not None and not (
            isinstance(imported, dict) and all(
                isinstance(k, str) and isinstance(v, str)
                for k, v in imported.items())):
        raise CheckpointError('{}: imported_from is not an object of '
                              'strings'.format(path))
    if info.get('optimizer', OPTIMIZERS[0]) not in OPTIMIZERS:
        raise CheckpointError('{}: optimizer is {!r}, expected one of '
                              '{}'.format(path, info['optimizer'],
                                          ', '.join(OPTIMIZERS)))
    return info


# checkpoint.json: field -> (type, least, most) of the values it may hold.
_INFO_FIELDS = {'env': (str, None, None), 'arch': (str, None, None),
                'n_actions': (int, 1, 1024),
                'frame_buffer_length': (int, 1, 64),
                'steps': (int, 0, 2 ** 53), 'optimizer': (str, None, None)}


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
