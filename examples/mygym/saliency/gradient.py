"""Input-gradient saliency: vanilla gradients and guided backpropagation.

Actor map: ``|d logit[a*] / d input|`` with ``a*`` the most probable action;
critic map: ``|d V / d input|``; both for the newest of the stacked frames,
``(H, W)`` float32, or (``frames='all'``) summed over every stacked frame
the network read. The two gradients are taken separately with
``chainer.grad`` (input gradients only, nothing accumulates: the original
summed the actor's gradient into its "critic" map).

Guided (``guided=True``) takes the gradients with ``chainer.config.train``
False, so every guided ReLU of the network applies the guided rule; vanilla
takes them with it True, so the same ReLUs pass plain gradients. In a
recurrent model both copies start from the state the agent had when it saw
the input; the gradient is taken with respect to the input frame, the state
held fixed.

For every network of the suite the backward pass reads its declared
structure (:class:`Backward`): the heads, the cell and the dense layers in
NumPy, the convolutions through ONNX Runtime, with the same rules as the
guided ReLU and ELU (checked against Chainer in tests): Chainer's
per-layer overhead made it most of a demo step. The policy the agent acts
on still comes from Chainer's forward of the input alone, as when it acts
without saliency. Other models (the mellowmax policy) backpropagate in
Chainer.
"""
import chainer
import numpy as np

from guided_relu import guided_elu, guided_relu
from kernels.engine import per_model, session
from kernels.graphs import conv_backward_graph, model_kind
from models.recurrent_state import restore, snapshot
from saliency.base import SaliencyMethod, SaliencyResult, policy_scores


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def through_activation(grad, out, activation, guided):
    """``grad`` at an activation's output ``out`` taken back through it
    (NumPy): a ReLU keeps it where ``out > 0``, an ELU scales it by its
    slope (1, or ``out + 1`` where ``out <= 0``); ``guided``: only where
    ``grad > 0`` too (the guided ReLU and ELU's rule)."""
    if activation == 'relu':
        slope = (out > 0).astype(np.float32)
    else:
        slope = np.minimum(out, 0) + 1
    if guided:
        slope = slope * (grad > 0)
    return grad * slope


def _gru_input_grad(link, x, h, g):
    """``g`` ``(2, U)`` at a GRU step's output taken back to its input
    ``x`` ``(800,)`` from the state ``h`` (PyTorch's gates)."""
    units = link.state_size
    w_ih = link.input.W.array
    gi = w_ih @ x + link.input.b.array
    gh = link.hidden.W.array @ h + link.hidden.b.array
    r = _sigmoid(gi[:units] + gh[:units])
    z = _sigmoid(gi[units:2 * units] + gh[units:2 * units])
    n = np.tanh(gi[2 * units:] + r * gh[2 * units:])
    g_n = g * (1 - z) * (1 - n * n)
    g_z = g * (h - n) * z * (1 - z)
    g_r = g_n * gh[2 * units:] * r * (1 - r)
    return np.concatenate([g_r, g_z, g_n], axis=1) @ w_ih


def _lstm_input_grad(link, x, c, h, g):
    """``g`` ``(2, U)`` at an LSTM step's ``h`` taken back to its input
    ``x`` from the state ``(c, h)`` (Chainer's gates, ``a, i, f, o`` per
    unit)."""
    units = link.state_size
    pre = (link.upward.W.array @ x + link.upward.b.array
           + link.lateral.W.array @ h).reshape(units, 4)
    a = np.tanh(pre[:, 0])
    i, f, o = (_sigmoid(pre[:, k]) for k in (1, 2, 3))
    c_next = np.tanh(a * i + f * c)
    g_c = g * o * (1 - c_next * c_next)
    gates = np.stack([g_c * i * (1 - a * a), g_c * a * i * (1 - i),
                      g_c * c * f * (1 - f),
                      g * c_next * o * (1 - o)], axis=2)
    return gates.reshape(2, -1) @ link.upward.W.array


class Backward:
    """Input gradients of a network through its declared
    :class:`networks.Structure`: the chosen action's logit and the value
    taken back through the cell (if any, the state held fixed) and the
    dense layers in NumPy, then through the convolutions in ONNX Runtime
    (:func:`kernels.graphs.conv_backward_graph`) on ``device``; every
    ReLU or ELU applies the guided rule or the plain one, as the guided
    activations do in Chainer."""

    def __init__(self, model, device='cpu'):
        self.model, self.device = model, device
        self.st = model.structure
        self._sessions = {}

    def forward(self, state, recurrent_state):
        """The network's forward of ``state`` ``(1, C, H, W)`` in Chainer,
        layer by layer (the same operations as its ``pi_and_v``), keeping
        what the backward reads: ``(record, policy, value)``."""
        st = self.st
        activation = guided_relu if st.activation == 'relu' else guided_elu
        record = {'convs': [], 'dense': []}
        with chainer.no_backprop_mode(), \
                chainer.using_config('train', False):
            h = state
            for conv in st.convs:
                h = activation(conv(h))
                record['convs'].append(h.array)
            h = h.reshape(1, -1)
            record['flat'] = h.array[0]
            for link in st.dense:
                h = activation(link(h))
                record['dense'].append(h.array[0])
            if st.cell:
                restore(self.model, recurrent_state)
                parts = snapshot(self.model)
                record['state'] = np.split(parts, len(st.state_layout))
                h = st.cell_link(h)
            policy, value = self.model.heads(h)
        return record, policy, float(value.array[0, 0])

    def __call__(self, record, action, guided, newest_only=False):
        """Input gradients ``(2, C, H, W)`` of the logit of ``action`` (row
        0) and of the value (row 1) from :meth:`forward`'s ``record``;
        with ``newest_only``, ``(2, 1, H, W)``: the last frame's alone."""
        st = self.st
        # A Q-network's value is max_a Q: the greedy action's Q-value.
        value = st.policy.W.array[action] if st.value is None \
            else st.value.W.array[0]
        g = np.stack([st.policy.W.array[action], value])
        inputs = [record['flat']] + record['dense']
        if st.cell == 'gru':
            g = _gru_input_grad(st.cell_link, inputs[-1],
                                record['state'][0], g)
        elif st.cell == 'lstm':
            g = _lstm_input_grad(st.cell_link, inputs[-1],
                                 *record['state'], g)
        for k in reversed(range(len(st.dense))):
            g = through_activation(g, record['dense'][k], st.activation,
                                   guided) @ st.dense[k].W.array
        key = (guided, newest_only)
        if key not in self._sessions:
            self._sessions[key] = session(
                conv_backward_graph(self.model, guided, newest_only),
                self.device, threads=1)
        feed = {'g': g.astype(np.float32)}
        for i, a in enumerate(record['convs'], 1):
            feed['a{}'.format(i)] = np.ascontiguousarray(a)
        return self._sessions[key].run(['gx'], feed)[0]


class GradientSaliency(SaliencyMethod):
    """Gradient of the chosen logit and of the value w.r.t. the input.

    Args:
        guided (bool): guided backpropagation (True) or vanilla gradient.
        frames (str): ``'newest'`` (the newest stacked frame's gradient) or
            ``'all'`` (``|gradient|`` summed over the stacked frames).
        device (str): where the A3CFF's backward pass runs (``'cpu'`` or
            ``'cuda'``, ONNX Runtime). Other networks backpropagate in
            Chainer on the CPU: :meth:`check_model` refuses them on CUDA.
    """

    def __init__(self, guided=True, frames='newest', device='cpu'):
        if frames not in ('newest', 'all'):
            raise ValueError("frames must be 'newest' or 'all', got {!r}"
                             .format(frames))
        self.guided = guided
        self.frames = frames
        self.device = device

    def check_model(self, model):
        """Raise ValueError (one line) if this method cannot run ``model``
        on its device."""
        if self.device != 'cpu' and model_kind(model) is None:
            raise ValueError(
                '--device {} runs guided and gradient maps for the suite\'s '
                'networks; this {} network backpropagates in Chainer on the '
                'CPU (use --device cpu)'.format(
                    self.device, type(model).__name__))

    def __call__(self, model, state, recurrent_state=None):
        state = np.asarray(state)
        if state.dtype.kind != 'f':
            state = state.astype(np.float32)
        if model_kind(model) is not None:
            grad, policy, value = self._via_engine(model, state,
                                                   recurrent_state)
        else:
            grad, policy, value = self._chainer(model, state,
                                                recurrent_state)
        grad = np.abs(grad)
        if self.frames == 'all':
            actor, critic = grad[0].sum(axis=0), grad[1].sum(axis=0)
        else:
            actor, critic = grad[0, -1], grad[1, -1]
        return SaliencyResult(
            actor=actor, critic=critic, policy=policy, value=value,
            recurrent_state=recurrent_state)

    def _via_engine(self, model, state, recurrent_state):
        backward = per_model(model, ('backward', self.device),
                             lambda m: Backward(m, self.device))
        record, policy, value = backward.forward(state, recurrent_state)
        best = int(policy_scores(policy).array[0].argmax())
        grad = backward(record, best, self.guided,
                        newest_only=self.frames == 'newest')
        return grad, policy, value

    def _chainer(self, model, state, recurrent_state):
        # Two copies of the input in one batch: the actor's target on row 0
        # and the critic's on row 1 share one backward pass, and their input
        # gradients stay apart (no accumulation), for half of Chainer's
        # per-layer overhead.
        x = chainer.Variable(np.concatenate([state, state]))
        restore(model, recurrent_state, batch_size=2)
        with chainer.using_config('train', False), \
                chainer.using_config('enable_backprop', True):
            policy, value = model.pi_and_v(x)
        scores = policy_scores(policy)
        best = int(scores.array[0].argmax())
        with chainer.using_config('train', not self.guided):
            grad, = chainer.grad([scores[0, best] + value[1, 0]], [x])
        return grad.array, policy[0:1], float(value.array[0, 0])
