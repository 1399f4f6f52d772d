"""The suite's A3C agents: networks, input scaling, building and loading.

Two calls make every agent of the suite:

* :func:`build_agent` ``(arch, n_actions, ...)``: a fresh agent;
* :func:`load_agent` ``(checkpoint_dir, ...) -> (agent, info)``: the agent
  saved in a checkpoint folder (see :mod:`checkpoint`), its network built
  from what the checkpoint says it holds.

Both return a :class:`saliency_a3c.SaliencyA3C` whose model is one of the
networks in :data:`ARCHS`; observations go through :func:`phi`.
"""
import collections
import os

import chainerrl_compat  # noqa: F401
import chainer
import numpy as np
from chainer import functions as F
from chainer import links as L
from chainerrl import policies
from chainerrl import v_function
from chainerrl.agents import a3c
from chainerrl.optimizers.nonbias_weight_decay import NonbiasWeightDecay
from chainerrl.recurrent import RecurrentChainMixin

from models.checkpoint import (CheckpointError, read_checkpoint_info, read_npz,
                               recover)
from env_gym_chainer import FramePreprocessor, UnknownGameError, game_of
from guided_relu import guided_elu, guided_relu
from iclr_acer_link import ICLRACERHead, ICLRACERHeadMini
from models.optimizers import make_optimizer
from models.networks import SuiteNetwork
from saliency_a3c import SaliencyA3C


class A3CFF(chainer.ChainList, a3c.A3CModel, SuiteNetwork):
    """ICLR-ACER head shared by a softmax policy and a state-value head."""

    def __init__(self, n_actions, n_input_channels=4, head_class=ICLRACERHead,
                 mellowmax=False):
        self.head = head_class(n_input_channels=n_input_channels,
                               activation=guided_relu)
        n_hidden = self.head.n_output_channels
        if mellowmax:
            self.pi = policies.MellowmaxPolicy(L.Linear(n_hidden, n_actions))
        else:
            self.pi = policies.FCSoftmaxPolicy(n_hidden, n_actions)
        self.v = v_function.FCVFunction(n_hidden)
        super().__init__(self.head, self.pi, self.v)
        self.kind = None if mellowmax else 'ff'
        self.input_size = head_class.input_size

    def pi_and_v(self, state):
        features = self.head(state)
        return self.pi(features), self.v(features)


class A3CLSTMCNN(chainer.ChainList, a3c.A3CModel, RecurrentChainMixin,
                 SuiteNetwork):
    """The LSTM-CNN actor-critic of Greydanus et al. / the XAITK example.

    Input ``(batch, 1, 80, 80)``: 4 convolutions (32 filters, 3x3, stride 2,
    padding 1) with ELU (80 -> 40 -> 20 -> 10 -> 5), an LSTM of 256 units on
    the flattened 32x5x5 features, and separate linear heads for the actor
    (n actions) and the critic (1). The ELUs are guided ELUs: plain in
    training, guided in saliency (see :mod:`guided_relu`).
    """

    recurrent = True
    input_size = 80

    def __init__(self, n_actions, n_input_channels=1, activation=guided_elu):
        self.activation = activation
        self.convs = chainer.ChainList(*[
            L.Convolution2D(n_input_channels if i == 0 else 32, 32, ksize=3,
                            stride=2, pad=1) for i in range(4)])
        self.lstm = L.LSTM(32 * 5 * 5, 256)
        self.pi = policies.FCSoftmaxPolicy(256, n_actions)
        self.v = v_function.FCVFunction(256)
        super().__init__(self.convs, self.lstm, self.pi, self.v)
        # The engine's graphs and npconv compute ELUs.
        self.kind = 'lstm' if activation in (guided_elu, F.elu) else None

    def features(self, state):
        """The convolutional features the LSTM reads, ``(batch, 32, 5, 5)``
        (the LSTM flattens them)."""
        h = state
        for conv in self.convs:
            h = self.activation(conv(h))
        return h

    def heads(self, h):
        """Policy and value of LSTM outputs ``(batch, 256)``."""
        return self.pi(h), self.v(h)

    def pi_and_v(self, state):
        return self.heads(self.lstm(self.features(state)))


Arch = collections.namedtuple('Arch', 'make_model make_preprocessor frames')

# --arch -> model factory (n_actions, n_frames), preprocessing, frames
# stacked (None: the caller's choice, default 4).
ARCHS = {
    'FFSoftmax': Arch(lambda n, c: A3CFF(n, c),
                      lambda: FramePreprocessor(84), None),
    'FFSoftmaxMini': Arch(
        lambda n, c: A3CFF(n, c, head_class=ICLRACERHeadMini),
        lambda: FramePreprocessor(60), None),
    'FFMellowmax': Arch(lambda n, c: A3CFF(n, c, mellowmax=True),
                        lambda: FramePreprocessor(84), None),
    # One 80x80 frame: rows 35..194 of the screen, mean of R, G and B.
    'LSTM': Arch(lambda n, c: A3CLSTMCNN(n, c),
                 lambda: FramePreprocessor(80, crop_rows=(35, 195),
                                           gray='mean'), 1),
}
DEFAULT_ARCH = 'FFSoftmax'
DEFAULT_FRAMES = 4


def phi(obs):
    """Stacked uint8 frames ``(N, S, S)`` -> float32 in [0, 1]."""
    return np.asarray(obs, dtype=np.float32) / 255.0


def stacked_frames(arch, requested=None):
    """Frames ``arch`` sees: its fixed count, else ``requested`` or 4.

    Raises:
        ValueError: ``requested`` conflicts with the architecture.
    """
    if arch not in ARCHS:
        raise ValueError('unknown architecture {!r}; choose from {}'.format(
            arch, ', '.join(sorted(ARCHS))))
    fixed = ARCHS[arch].frames
    if fixed is None:
        return requested or DEFAULT_FRAMES
    if requested not in (None, fixed):
        raise ValueError('--arch {} sees {} frame(s); --frame-buffer-length '
                         '{} does not apply'.format(arch, fixed, requested))
    return fixed


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
    agent = SaliencyA3C(model, opt, t_max=t_max, gamma=gamma, beta=beta,
                        phi=phi)
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


def _game(env_id):
    """The game an id plays, or the id itself if it names no ALE game."""
    try:
        return game_of(env_id)
    except UnknownGameError:
        return env_id


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
            _game(saved_env) != _game(env):
        raise CheckpointError(
            'checkpoint {} was trained on {}, this run plays {}; add '
            '--allow-other-game to load it anyway'.format(
                checkpoint_dir, saved_env, env))
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
    return agent, dict(agent.checkpoint_info, steps=agent.global_step)


def _model_file(checkpoint_dir):
    path = os.path.join(checkpoint_dir, 'model.npz')
    if not os.path.isfile(path):
        raise CheckpointError('no model.npz in {} (not an agent checkpoint)'
                              .format(checkpoint_dir))
    return path
