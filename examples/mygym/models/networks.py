"""The suite's networks: what each declares about itself, and the networks.

Every network in :data:`ARCHS` is a :class:`SuiteNetwork`: callers ask it
what it is (its kind, whether it is recurrent, its input size) instead of
guessing from its attributes, and caches of what is built from its weights
(the ONNX engine's graphs) follow its weights version. :data:`ARCHS` maps
each ``--arch`` to its network, its preprocessing and its stacked frames;
observations reach a network through :func:`phi`.
"""
import collections

import chainerrl_compat  # noqa: F401
import chainer
import numpy as np
from chainer import functions as F
from chainer import links as L
from chainerrl import policies
from chainerrl import v_function
from chainerrl.agents import a3c
from chainerrl.recurrent import RecurrentChainMixin

from env_gym_chainer import FramePreprocessor
from guided_relu import guided_elu, guided_relu
from iclr_acer_link import ICLRACERHead, ICLRACERHeadMini


class SuiteNetwork:
    """What a network of the suite says of itself, so no caller guesses.

    Attributes:
        kind (str or None): ``'ff'`` (an ICLR-ACER A3CFF with a softmax
            policy) or ``'lstm'`` (the LSTM-CNN): the networks the ONNX
            engine, guided backpropagation's backward pass and the batched
            update's NumPy layers run; None for a variant they do not (the
            mellowmax policy).
        recurrent (bool): whether it keeps a state between steps.
        input_size (int): side of its square input frames.
        weights_version (int): moved on by :meth:`weights_changed` whenever
            the weights change (a load, a worker's re-sync, randomisation);
            what is built from the weights (the engine's graphs) is rebuilt
            when it moves.
    """

    kind = None
    recurrent = False
    input_size = None
    weights_version = 0

    def weights_changed(self):
        """Say that the weights changed (in place or replaced)."""
        self.weights_version += 1


def weights_changed(model):
    """:meth:`SuiteNetwork.weights_changed` of ``model``, if it has one."""
    if isinstance(model, SuiteNetwork):
        model.weights_changed()


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


class NIPSHead(chainer.ChainList):
    """The NIPS DQN head of ChainerRL's Atari A3C example: two convolutions
    (16 8x8/4, 32 4x4/2) and a linear layer of 256, each followed by the
    activation (guided ReLU here: ReLU in training)."""

    input_size = 84
    n_output_channels = 256

    def __init__(self, n_input_channels=4, activation=guided_relu):
        self.activation = activation
        super().__init__(
            L.Convolution2D(n_input_channels, 16, 8, stride=4,
                            initial_bias=0.1),
            L.Convolution2D(16, 32, 4, stride=2, initial_bias=0.1),
            L.Linear(2592, 256, initial_bias=0.1))

    def __call__(self, state):
        h = state
        for layer in self:
            h = self.activation(layer(h))
        return h


class ChainerRLA3CFF(chainer.ChainList, a3c.A3CModel, SuiteNetwork):
    """ChainerRL's Atari ``A3CFF`` (``examples/atari/train_a3c_ale.py``),
    link for link, so that its ``model.npz`` loads by name: the NIPS head,
    a softmax policy and a value. Run by Chainer (``kind`` None)."""

    input_size = 84

    def __init__(self, n_actions, n_input_channels=4):
        self.head = NIPSHead(n_input_channels)
        self.pi = policies.FCSoftmaxPolicy(256, n_actions)
        self.v = v_function.FCVFunction(256)
        super().__init__(self.head, self.pi, self.v)

    def pi_and_v(self, state):
        features = self.head(state)
        return self.pi(features), self.v(features)


class ChainerRLA3CLSTM(chainer.ChainList, a3c.A3CModel, RecurrentChainMixin,
                       SuiteNetwork):
    """ChainerRL's Atari ``A3CLSTM``: the NIPS head, an LSTM of 256, a
    softmax policy and a value, link for link."""

    recurrent = True
    input_size = 84

    def __init__(self, n_actions, n_input_channels=4):
        self.head = NIPSHead(n_input_channels)
        self.lstm = L.LSTM(256, 256)
        self.pi = policies.FCSoftmaxPolicy(256, n_actions)
        self.v = v_function.FCVFunction(256)
        super().__init__(self.head, self.lstm, self.pi, self.v)

    def features(self, state):
        """What the LSTM reads, ``(batch, 256)``."""
        return self.head(state)

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
    # ChainerRL's own Atari A3C networks (agents imported with
    # import_agent.py; they train here too).
    'ChainerRLFF': Arch(lambda n, c: ChainerRLA3CFF(n, c),
                        lambda: FramePreprocessor(84, gray='bt601'), None),
    'ChainerRLLSTM': Arch(lambda n, c: ChainerRLA3CLSTM(n, c),
                          lambda: FramePreprocessor(84, gray='bt601'), None),
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
