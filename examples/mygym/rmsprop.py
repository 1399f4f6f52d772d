"""ChainerRL's shared RMSprop, updated in place.

``RMSpropAsync`` computes ``ms = alpha * ms + (1 - alpha) * g * g`` and
``w -= lr * g / sqrt(ms + eps)`` with five temporaries the size of each
parameter, every update. :class:`InPlaceRMSpropAsync` does the same
operations in the same order on two scratch buffers kept per parameter, so
its results are bit for bit ChainerRL's (a test checks it) and its state
and checkpoints are the same.
"""
import numpy as np
from chainerrl.optimizers import rmsprop_async


class InPlaceRMSpropAsyncRule(rmsprop_async.RMSpropAsyncRule):

    def update_core_cpu(self, param):
        grad = param.grad
        if grad is None:
            return
        hp = self.hyperparam
        ms = self.state['ms']
        scratch = getattr(self, '_scratch', None)
        if scratch is None or scratch[0].shape != grad.shape or \
                scratch[0].dtype != grad.dtype:
            scratch = self._scratch = (np.empty_like(grad),
                                       np.empty_like(grad))
        term, step = scratch
        ms *= hp.alpha
        np.multiply(1 - hp.alpha, grad, out=term)
        term *= grad
        ms += term
        np.multiply(hp.lr, grad, out=step)
        np.add(ms, hp.eps, out=term)
        np.sqrt(term, out=term)
        step /= term
        param.array -= step


class InPlaceRMSpropAsync(rmsprop_async.RMSpropAsync):
    """``RMSpropAsync`` whose CPU update allocates nothing per step."""

    def create_update_rule(self):
        return InPlaceRMSpropAsyncRule(self.hyperparam)
