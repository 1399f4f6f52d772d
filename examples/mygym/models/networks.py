"""The suite's networks: what each declares about itself, and the networks.

Every network in :data:`ARCHS` is a :class:`SuiteNetwork` and declares its
:class:`Structure`: its convolutions and their activation, the dense layers
after them, its recurrent cell (none, an LSTM or a GRU) and that cell's
state layout, and its two heads. Callers (the ONNX graphs, the backward
passes, recurrent-state snapshots, the report's layer groups,
``dead_units``) read the declaration instead of guessing from attributes,
and caches of what is built from the weights (the engine's graphs) follow
the network's weights version. :data:`ARCHS` maps each ``--arch`` to its
network, its preprocessing and its stacked frames; observations reach a
network through :func:`phi`.

Adding a network kind: a chain whose ``structure`` lists its links in the
order the forward pass runs them (the graph builders in
:mod:`kernels.graphs` then run it), and an entry in :data:`ARCHS`.
"""
import collections
import dataclasses

import chainerrl_compat  # noqa: F401
import chainer
import numpy as np
from chainer import functions as F
from chainer import links as L
from chainerrl import policies
from chainerrl.distribution import SoftmaxDistribution
from chainerrl import v_function
from chainerrl.agents import a3c
from chainerrl.recurrent import Recurrent, RecurrentChainMixin

from env_gym_chainer import FramePreprocessor
from guided_relu import guided_elu, guided_relu
from iclr_acer_link import ICLRACERHead, ICLRACERHeadMini


ACTIVATIONS = ('relu', 'elu')
OUTPUTS = ('policy', 'q')
CELLS = (None, 'lstm', 'gru')
# Each cell's state, in the order of the flat state vector
# (:mod:`models.recurrent_state`).
STATE_LAYOUTS = {None: (), 'lstm': ('c', 'h'), 'gru': ('h',)}


@dataclasses.dataclass
class Structure:
    """What a network is made of, in the order its forward pass runs.

    ``x -> convs (each followed by activation) -> flatten -> dense (each
    followed by activation) -> cell (if any) -> policy, value``.

    Attributes:
        convs (list): the ``L.Convolution2D`` links.
        activation (str): ``'relu'`` or ``'elu'`` (after every convolution
            and dense layer; guided in saliency).
        dense (list): the ``L.Linear`` links between the flattened
            convolutions and the cell (or the heads).
        cell (str or None): ``'lstm'`` (Chainer's ``L.LSTM``, state ``c``,
            ``h``), ``'gru'`` (:class:`GRUCell`, PyTorch's gate layout,
            state ``h``) or None (feed-forward).
        cell_link: the cell's link, or None.
        policy: the policy head's ``L.Linear`` (logits or Q-values).
        value: the value head's ``L.Linear`` (one output), or None for a
            Q-network (its value is ``max_a Q``).
        outputs (str): ``'policy'`` (softmax over the policy head's
            logits) or ``'q'`` (Q-values: the agent acts greedily, the
            value is their maximum, and methods that read a policy read
            the softmax of the Q-values).
    """

    convs: list
    activation: str
    dense: list
    cell: str
    cell_link: object
    policy: object
    value: object
    outputs: str = 'policy'

    def __post_init__(self):
        assert self.activation in ACTIVATIONS, self.activation
        assert self.cell in CELLS, self.cell
        assert (self.cell is None) == (self.cell_link is None)
        assert self.outputs in OUTPUTS, self.outputs
        assert (self.value is None) == (self.outputs == 'q')

    @property
    def state_layout(self):
        """Names of the cell's state parts (``()`` for no cell)."""
        return STATE_LAYOUTS[self.cell]

    @property
    def units(self):
        """Units of each state part (0 for no cell)."""
        return self.cell_link.state_size if self.cell else 0

    @property
    def state_size(self):
        """Length of the flat recurrent state (0 for no cell)."""
        return len(self.state_layout) * self.units


class SuiteNetwork:
    """What a network of the suite says of itself, so no caller guesses.

    Attributes:
        kind (str or None): the network's family (``'ff'``, ``'lstm'``,
            ``'gru'``, ``'chainerrl-ff'``, ``'chainerrl-lstm'``), for
            names and caches; None for a variant whose outputs the ONNX
            engine does not reproduce (the mellowmax policy). Code that
            needs to know what the network is made of reads
            :attr:`structure`, not the kind.
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

    @property
    def structure(self):
        """The network's :class:`Structure`."""
        raise NotImplementedError

    def heads(self, h):
        """``(policy distribution, value)`` of what the heads read (the
        cell's output, or the last dense layer's)."""
        raise NotImplementedError

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

    def heads(self, h):
        """Policy and value of the head's output."""
        return self.pi(h), self.v(h)

    def pi_and_v(self, state):
        return self.heads(self.head(state))

    @property
    def structure(self):
        head = list(self.head)
        return Structure(head[:-1], 'relu', head[-1:], None, None,
                         _output_link(self.pi), self.v.model.output)


def _output_link(policy):
    """The linear layer of a ChainerRL softmax (or mellowmax) policy."""
    return getattr(policy.model, 'output', policy.model)


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

    @property
    def structure(self):
        activation = 'relu' if self.activation in (guided_relu, F.relu) \
            else 'elu'
        return Structure(list(self.convs), activation, [], 'lstm',
                         self.lstm, self.pi.model.output,
                         self.v.model.output)


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
    a softmax policy and a value."""

    input_size = 84
    kind = 'chainerrl-ff'

    def __init__(self, n_actions, n_input_channels=4):
        self.head = NIPSHead(n_input_channels)
        self.pi = policies.FCSoftmaxPolicy(256, n_actions)
        self.v = v_function.FCVFunction(256)
        super().__init__(self.head, self.pi, self.v)

    def heads(self, h):
        """Policy and value of the head's output."""
        return self.pi(h), self.v(h)

    def pi_and_v(self, state):
        return self.heads(self.head(state))

    @property
    def structure(self):
        head = list(self.head)
        return Structure(head[:2], 'relu', head[2:], None, None,
                         self.pi.model.output, self.v.model.output)


class ChainerRLA3CLSTM(chainer.ChainList, a3c.A3CModel, RecurrentChainMixin,
                       SuiteNetwork):
    """ChainerRL's Atari ``A3CLSTM``: the NIPS head, an LSTM of 256, a
    softmax policy and a value, link for link."""

    recurrent = True
    input_size = 84
    kind = 'chainerrl-lstm'

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

    @property
    def structure(self):
        head = list(self.head)
        return Structure(head[:2], 'relu', head[2:], 'lstm', self.lstm,
                         self.pi.model.output, self.v.model.output)


class GRUCell(chainer.Chain, Recurrent):
    """PyTorch's ``nn.GRUCell`` as a stateful Chainer link.

    ``input`` holds ``W_ih``, ``b_ih`` and ``hidden`` holds ``W_hh``,
    ``b_hh``, each ``(3 U, ...)`` with the gates stacked ``[r | z | n]``
    as PyTorch stacks them::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    (``b_hn`` stays inside the reset product, unlike Chainer's own GRU.)
    The state ``h`` starts at zero (None) and is kept between calls.
    """

    def __init__(self, in_size, units):
        super().__init__()
        self.state_size = units
        with self.init_scope():
            self.input = L.Linear(in_size, 3 * units)
            self.hidden = L.Linear(units, 3 * units)
        self.h = None

    def __call__(self, x):
        units = self.state_size
        gi = self.input(x)
        if self.h is None:
            gh = F.broadcast_to(self.hidden.b, gi.shape)
            h = self.xp.zeros((len(gi), units), dtype=gi.dtype)
        else:
            gh = self.hidden(self.h)
            h = self.h
        i_r, i_z, i_n = F.split_axis(gi, 3, axis=1)
        h_r, h_z, h_n = F.split_axis(gh, 3, axis=1)
        r = F.sigmoid(i_r + h_r)
        z = F.sigmoid(i_z + h_z)
        n = F.tanh(i_n + r * h_n)
        self.h = (1 - z) * n + z * h
        return self.h

    def get_state(self):
        return self.h

    def set_state(self, state):
        self.h = state

    def reset_state(self):
        self.h = None

    def unchain_backward(self):
        if self.h is not None:
            self.h.unchain_backward()


class A3CGRUCNN(chainer.ChainList, a3c.A3CModel, RecurrentChainMixin,
                SuiteNetwork):
    """Greydanus' baby-a3c ``NNPolicy``: four 3x3 stride-2 convolutions of
    32 filters (padding 1) with ELU on one 80x80 frame (80 -> 40 -> 20 ->
    10 -> 5), a GRU cell of 256 units on the flattened 32x5x5 features
    (PyTorch's layout, :class:`GRUCell`), and linear heads for the actor
    and the critic. The ELUs are guided ELUs (plain in training)."""

    recurrent = True
    input_size = 80

    def __init__(self, n_actions, n_input_channels=1, units=256):
        self.convs = chainer.ChainList(*[
            L.Convolution2D(n_input_channels if i == 0 else 32, 32, ksize=3,
                            stride=2, pad=1) for i in range(4)])
        self.gru = GRUCell(32 * 5 * 5, units)
        self.pi = policies.FCSoftmaxPolicy(units, n_actions)
        self.v = v_function.FCVFunction(units)
        super().__init__(self.convs, self.gru, self.pi, self.v)
        self.kind = 'gru'

    def features(self, state):
        """The flattened convolutional features, ``(batch, 800)``."""
        h = state
        for conv in self.convs:
            h = guided_elu(conv(h))
        return F.reshape(h, (len(h), -1))

    def heads(self, h):
        """Policy and value of cell outputs ``(batch, 256)``."""
        return self.pi(h), self.v(h)

    def pi_and_v(self, state):
        return self.heads(self.gru(self.features(state)))

    @property
    def structure(self):
        return Structure(list(self.convs), 'elu', [], 'gru', self.gru,
                         self.pi.model.output, self.v.model.output)


class NatureHead(chainer.ChainList):
    """The Nature DQN network's body, as Stable-Baselines3's ``NatureCNN``
    and CleanRL's agents have it: three convolutions (32 8x8/4, 64 4x4/2,
    64 3x3/1) and a linear layer of 512 on 84x84 frames, each followed by
    the activation (guided ReLU here: ReLU in training).

    ``towers=2`` holds two such bodies side by side (Stable-Baselines3's
    ``share_features_extractor=False``: the actor's and the critic's): the
    first convolution's filters of both, the later ones as grouped
    convolutions (each tower reads only its own channels) and the linear
    layer block-diagonal (zeros between the towers), so that the output is
    the two towers' 512 features, actor's first, exactly."""

    input_size = 84

    def __init__(self, n_input_channels=4, activation=guided_relu,
                 towers=1):
        self.activation = activation
        self.towers = towers
        self.n_output_channels = 512 * towers
        super().__init__(
            L.Convolution2D(n_input_channels, 32 * towers, 8, stride=4),
            L.Convolution2D(32 * towers, 64 * towers, 4, stride=2,
                            groups=towers),
            L.Convolution2D(64 * towers, 64 * towers, 3, stride=1,
                            groups=towers),
            L.Linear(3136 * towers, 512 * towers))

    def __call__(self, state):
        h = state
        for layer in self:
            h = self.activation(layer(h))
        return h


class NatureCNN(chainer.ChainList, a3c.A3CModel, SuiteNetwork):
    """The Nature CNN with a policy and a value head (PPO and A2C of
    Stable-Baselines3, CleanRL's ``ppo_atari.py``) or a Q-value head (DQN:
    Stable-Baselines3's, CleanRL's ``dqn_atari.py``).

    A Q-network's ``pi_and_v`` gives the softmax of its Q-values as the
    policy (what methods that read a policy read) and ``max_a Q`` as the
    value; its agent acts greedily (:func:`agents.build_agent`).
    """

    input_size = 84
    kind = 'nature'

    def __init__(self, n_actions, n_input_channels=4, q_values=False,
                 towers=1):
        self.head = NatureHead(n_input_channels, towers=towers)
        width = self.head.n_output_channels
        self.pi = L.Linear(width, n_actions)
        self.q_values = q_values
        links = [self.head, self.pi]
        if not q_values:
            self.v = L.Linear(width, 1)
            links.append(self.v)
        super().__init__(*links)

    def heads(self, h):
        """Policy (the softmax of the logits or of the Q-values) and value
        (``max_a Q`` for a Q-network) of the body's output."""
        scores = self.pi(h)
        if self.q_values:
            return (SoftmaxDistribution(scores),
                    F.max(scores, axis=1, keepdims=True))
        return SoftmaxDistribution(scores), self.v(h)

    def pi_and_v(self, state):
        return self.heads(self.head(state))

    @property
    def structure(self):
        head = list(self.head)
        return Structure(head[:3], 'relu', head[3:], None, None, self.pi,
                         None if self.q_values else self.v,
                         'q' if self.q_values else 'policy')


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
    # The Nature CNN of today's libraries (Stable-Baselines3, CleanRL):
    # with policy and value heads, or with Q-values (imported DQN agents).
    'NatureAC': Arch(lambda n, c: NatureCNN(n, c),
                     lambda: FramePreprocessor(84, gray='bt601'), None),
    'NatureQ': Arch(lambda n, c: NatureCNN(n, c, q_values=True),
                    lambda: FramePreprocessor(84, gray='bt601'), None),
    # ... with separate actor and critic bodies (two towers).
    'NatureAC2': Arch(lambda n, c: NatureCNN(n, c, towers=2),
                      lambda: FramePreprocessor(84, gray='bt601'), None),
    # Greydanus' baby-a3c network, with its frames: rows 35..194, mean of
    # R, G and B, scipy's imresize to 80x80 (byte-scaled, Pillow's
    # bilinear filter).
    'GRU': Arch(lambda n, c: A3CGRUCNN(n, c),
                lambda: FramePreprocessor(80, crop_rows=(35, 195),
                                          gray='mean', resample='imresize'),
                1),
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
