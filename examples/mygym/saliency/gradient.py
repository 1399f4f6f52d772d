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
"""
import chainer
import numpy as np

from recurrent_state import restore
from saliency.base import SaliencyMethod, SaliencyResult, policy_scores


class GradientSaliency(SaliencyMethod):
    """Gradient of the chosen logit and of the value w.r.t. the input.

    Args:
        guided (bool): guided backpropagation (True) or vanilla gradient.
        frames (str): ``'newest'`` (the newest stacked frame's gradient) or
            ``'all'`` (``|gradient|`` summed over the stacked frames).
    """

    def __init__(self, guided=True, frames='newest'):
        if frames not in ('newest', 'all'):
            raise ValueError("frames must be 'newest' or 'all', got {!r}"
                             .format(frames))
        self.guided = guided
        self.frames = frames

    def __call__(self, model, state, recurrent_state=None):
        state = np.asarray(state)
        if state.dtype.kind != 'f':
            state = state.astype(np.float32)
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
        grad = np.abs(grad.array)
        if self.frames == 'all':
            actor, critic = grad[0].sum(axis=0), grad[1].sum(axis=0)
        else:
            actor, critic = grad[0, -1], grad[1, -1]
        return SaliencyResult(
            actor=actor, critic=critic,
            policy=policy[0:1],
            value=float(value.array[0, 0]),
            recurrent_state=recurrent_state)
