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

For the ICLR-ACER network (A3CFF) the backward pass runs through ONNX
Runtime (:class:`FFBackward`, the same rules as the guided ReLU, checked
against Chainer in tests): Chainer's per-layer overhead made it most of a
demo step. The policy the agent acts on still comes from Chainer's forward of
the input alone, as when it acts without saliency.
"""
import chainer
import numpy as np

from kernels.engine import per_model, session
from kernels.graphs import ff_backward_graph, model_kind
from models.recurrent_state import restore
from saliency.base import SaliencyMethod, SaliencyResult, policy_scores


class FFBackward:
    """Input gradients of an ``A3CFF`` through ONNX Runtime
    (:func:`kernels.graphs.ff_backward_graph`) on ``device``: the chosen
    action's logit and the value, backpropagated through ReLUs with the
    guided rule (gradient kept where the unit's output and the gradient are
    positive) or the plain one (where the output is positive), from the
    activations of the model's own forward pass."""

    def __init__(self, model, device='cpu'):
        self.model, self.device = model, device
        self.pi = model.pi.model.output.W.array
        self.v = model.v.model.output.W.array
        self._sessions = {}

    def __call__(self, activations, action, guided, newest_only=False):
        """Input gradients ``(2, C, H, W)`` of the logit of ``action`` (row
        0) and of the value (row 1), from the head's ``activations`` (the
        input ``(1, C, H, W)`` and each layer's ReLU output, as the
        forward computed them); with ``newest_only``, ``(2, 1, H, W)``: the
        last frame's alone."""
        key = (guided, newest_only)
        if key not in self._sessions:
            self._sessions[key] = session(
                ff_backward_graph(self.model, guided, newest_only),
                self.device, threads=1)
        g = np.stack([self.pi[action], self.v[0]])
        keep = activations[4] > 0
        if guided:
            keep = keep & (g > 0)
        feed = {'g': (g * keep).astype(np.float32)}
        for i in (1, 2, 3):
            feed['a{}'.format(i)] = np.ascontiguousarray(activations[i])
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
        if self.device != 'cpu' and model_kind(model) != 'ff':
            raise ValueError(
                '--device {} runs guided and gradient maps only for the '
                'feed-forward networks; this {} network backpropagates in '
                'Chainer on the CPU (use --device cpu)'.format(
                    self.device, type(model).__name__))

    def __call__(self, model, state, recurrent_state=None):
        state = np.asarray(state)
        if state.dtype.kind != 'f':
            state = state.astype(np.float32)
        if model_kind(model) == 'ff':
            grad, policy, value = self._via_engine(model, state)
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

    def _via_engine(self, model, state):
        # A3CFF.pi_and_v, layer by layer (the same operations, so the same
        # policy as acting without saliency), keeping the activations.
        activations = [state]
        with chainer.no_backprop_mode(), \
                chainer.using_config('train', False):
            h = state
            for layer in model.head:
                h = model.head.activation(layer(h))
                activations.append(h.array)
            policy, value = model.pi(h), model.v(h)
        best = int(policy_scores(policy).array[0].argmax())
        grad = per_model(model, ('ff-backward', self.device),
                         lambda m: FFBackward(m, self.device))(
            activations, best, self.guided,
            newest_only=self.frames == 'newest')
        return grad, policy, float(value.array[0, 0])

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
