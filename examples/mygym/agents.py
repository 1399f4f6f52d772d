"""The suite's A3C agents: building, loading, and their environments.

Two calls make every agent of the suite:

* :func:`build_agent` ``(arch, n_actions, ...)``: a fresh agent;
* :func:`load_agent` ``(checkpoint_dir, ...) -> (agent, info)``: the agent
  saved in a checkpoint folder (see :mod:`models.checkpoint`), its network
  built from what the checkpoint says it holds.

Both return a :class:`saliency_a3c.SaliencyA3C` whose model is one of the
networks in :data:`models.networks.ARCHS`. :func:`environment_for` makes
the environment a loaded agent plays in, at the evaluation seed.
"""
import os

import chainerrl_compat  # noqa: F401
import chainer
from chainerrl.optimizers.nonbias_weight_decay import NonbiasWeightDecay

from env_gym_chainer import GymEnvironment, game_or_id
from models import protocol
from models.checkpoint import (CheckpointError, read_checkpoint_info, read_npz,
                               recover)
from models.networks import ARCHS, DEFAULT_ARCH, phi, stacked_frames
from models.optimizers import make_optimizer
from saliency_a3c import SaliencyA3C


def evaluation_seed(seed, worker=0):
    """The seed of evaluation environment ``worker`` of a run seeded
    ``seed``: counted down from ``2**31 - 1``, away from the training
    environments' ``seed * 1000 + worker``."""
    return 2 ** 31 - 1 - (seed * 1000 + worker)


def input_protocol(info):
    """The input protocol (:mod:`models.protocol`) of the checkpoint
    described by ``info``: its own ``protocol`` (an imported agent's) over
    its architecture's."""
    return protocol.of(info, ARCHS[info.get('arch') or DEFAULT_ARCH]
                       .make_preprocessor())


def environment_options(info):
    """The :class:`GymEnvironment` arguments that make the frames the
    agent of ``info`` was trained on: preprocessor, frame skip, max-pooling
    and no-ops (:func:`input_protocol`)."""
    played = input_protocol(info)
    return dict(protocol.environment_options(played),
                preprocessor=protocol.preprocessor(played))


def environment_for(info, env_id=None, seed=0, worker=0, **options):
    """A :class:`GymEnvironment` that feeds the checkpoint described by
    ``info`` (:func:`load_agent`'s): its game (or ``env_id``), its input
    protocol (:func:`environment_options`) and stacked frames, at the
    evaluation seed of ``seed`` (:func:`evaluation_seed`); ``options`` go
    to the environment."""
    return GymEnvironment(
        env_id or info['env'],
        frame_buffer_length=info['frame_buffer_length'],
        seed=evaluation_seed(seed, worker),
        **dict(environment_options(info), **options))


def build_agent(arch, n_actions, frame_buffer_length=None, env=None,
                lr=7e-4, rmsprop_epsilon=1e-1, weight_decay=0.0,
                gradient_clipping=None, t_max=5, beta=1e-2, gamma=0.99,
                optimizer='rmsprop'):
    """A fresh agent: the ``arch`` network, a shared optimizer
    (:func:`optimizers.make_optimizer`), A3C settings.

    ``env`` is only recorded in the checkpoints the agent writes.
    """
    n_frames = stacked_frames(arch, frame_buffer_length)
    model = ARCHS[arch].make_model(n_actions, n_frames)
    opt = make_optimizer(optimizer, lr, rmsprop_epsilon)
    opt.setup(model)
    if weight_decay > 0:
        opt.add_hook(NonbiasWeightDecay(weight_decay))
    if gradient_clipping is not None:
        opt.add_hook(chainer.optimizer_hooks.GradientClipping(
            gradient_clipping))
    # A Q-network's agent acts greedily (the argmax of its Q-values), as a
    # DQN agent is evaluated; a policy's samples, as A3C evaluates.
    agent = SaliencyA3C(model, opt, t_max=t_max, gamma=gamma, beta=beta,
                        phi=phi, act_deterministically=(
                            model.structure.outputs == 'q'))
    agent.checkpoint_info = {
        'env': env, 'arch': arch, 'n_actions': int(n_actions),
        'frame_buffer_length': n_frames, 'optimizer': optimizer}
    return agent


def _sized_by(arch, vary):
    """Name of the parameter whose first two dimensions change with one
    size of the network, and which of the two it is (``vary(k)`` builds the
    network with that size set to ``k``)."""
    one, two = dict(vary(1).namedparams()), dict(vary(2).namedparams())
    for name, param in one.items():
        for axis in range(min(2, param.ndim)):
            if param.shape[axis] != two[name].shape[axis]:
                return name.lstrip('/'), axis
    raise AssertionError('no parameter of {} depends on that size'.format(
        arch))


def _infer_sizes(model_file, arch):
    """``n_actions`` and stacked frames of a weights-only ``model.npz``."""
    shapes = {name: a.shape for name, a in read_npz(model_file).items()}
    sizes = {}
    make = ARCHS[arch].make_model
    for key, vary in (('n_actions', lambda k: make(k, 1)),
                      ('frame_buffer_length', lambda k: make(2, k))):
        name, axis = _sized_by(arch, vary)
        if name not in shapes or len(shapes[name]) <= axis:
            raise CheckpointError('{} does not hold a {} network (no array '
                                  '{})'.format(model_file, arch, name))
        sizes[key] = int(shapes[name][axis])
    return sizes


def load_agent(checkpoint_dir, arch=None, n_actions=None,
               frame_buffer_length=None, env=None, allow_other_game=False,
               **options):
    """The agent saved in ``checkpoint_dir``, and what the folder says of it.

    The network is the one ``checkpoint.json`` names; a weights-only folder
    (``model.npz`` alone) is read as ``arch`` (default FFSoftmax) with the
    action and frame counts of its arrays. Arguments that are given must
    agree with the checkpoint: a launcher passes what its game and flags
    need, a tool passes nothing and takes what the checkpoint holds.

    Args:
        checkpoint_dir (str): a folder with ``model.npz`` (and usually
            ``checkpoint.json``, ``optimizer.npz``).
        arch, n_actions, frame_buffer_length: what the caller needs, or
            None for the checkpoint's own.
        env (str or None): the game the caller plays, recorded in the
            agent's checkpoints (default: the checkpoint's); another game
            than the checkpoint's is refused unless ``allow_other_game``
            (ids of one game, ``Pong-v0`` and ``ALE/Pong-v5``, agree).
        **options: :func:`build_agent`'s training settings (learning rate,
            ...), for a resumed training; ``optimizer`` defaults to the
            checkpoint's.

    Returns:
        ``(agent, info)``: info has ``arch``, ``n_actions``,
        ``frame_buffer_length``, ``env`` (None if unknown) and ``steps``.

    Raises:
        CheckpointError: missing or unreadable files, or a checkpoint that
            does not fit what the caller needs.
    """
    recover(checkpoint_dir)     # a save that a killed process left half done
    if not os.path.isdir(checkpoint_dir):
        raise CheckpointError('no checkpoint folder at {}'.format(
            checkpoint_dir))
    info = read_checkpoint_info(checkpoint_dir)
    saved_env = info.get('env')
    if env and saved_env and not allow_other_game and \
            game_or_id(saved_env) != game_or_id(env):
        raise CheckpointError(
            'checkpoint {} was trained on {}, this run plays {}; leave '
            '--env out to play its game, or add --allow-other-game to load '
            'it anyway'.format(checkpoint_dir, saved_env, env))
    saved_arch = info.get('arch')
    if arch is not None and saved_arch is not None and arch != saved_arch:
        raise CheckpointError('checkpoint {} has arch={} but this run needs '
                              'arch={}'.format(checkpoint_dir, saved_arch,
                                               arch))
    arch = saved_arch or arch or DEFAULT_ARCH
    if arch not in ARCHS:
        raise CheckpointError('checkpoint {} names an unknown architecture '
                              '{!r}'.format(checkpoint_dir, arch))
    if n_actions is None:
        n_actions = info.get('n_actions')
    if frame_buffer_length is None and ARCHS[arch].frames is None:
        frame_buffer_length = info.get('frame_buffer_length')
    if n_actions is None or (frame_buffer_length is None
                             and ARCHS[arch].frames is None):
        inferred = _infer_sizes(_model_file(checkpoint_dir), arch)
        n_actions = n_actions or inferred['n_actions']
        frame_buffer_length = (frame_buffer_length
                               or inferred['frame_buffer_length'])
    try:
        n_frames = stacked_frames(arch, frame_buffer_length)
    except ValueError as e:
        raise CheckpointError('checkpoint {}: {}'.format(checkpoint_dir, e))
    # A resumed training carries on with the optimizer it saved.
    options.setdefault('optimizer', info.get('optimizer', 'rmsprop'))
    agent = build_agent(arch, n_actions, n_frames,
                        env=env or info.get('env'), **options)
    agent.load(checkpoint_dir)
    for key in ('protocol', 'imported_from'):
        if key in info:     # carried into the agent's own checkpoints
            agent.checkpoint_info[key] = info[key]
    return agent, dict(agent.checkpoint_info, steps=agent.global_step)


def _model_file(checkpoint_dir):
    path = os.path.join(checkpoint_dir, 'model.npz')
    if not os.path.isfile(path):
        raise CheckpointError('no model.npz in {} (not an agent checkpoint)'
                              .format(checkpoint_dir))
    return path


def load_for_tool(checkpoint_dir, env=None, arch=None):
    """:func:`load_agent` as every tool but the launcher calls it: the
    checkpoint decides; ``env`` and ``arch`` (its ``--env`` and ``--arch``)
    are needed only by a ``model.npz`` without ``checkpoint.json`` and
    must agree with a checkpoint that names them.

    Raises:
        CheckpointError: as :func:`load_agent`, or no game named anywhere.
    """
    agent, info = load_agent(checkpoint_dir, arch=arch, env=env)
    if not info.get('env'):
        raise CheckpointError(
            '{} names no game (a model.npz without checkpoint.json): give '
            '--env, and --arch if it is not {}'.format(checkpoint_dir,
                                                       DEFAULT_ARCH))
    return agent, info
