"""The shared optimizers of A3C training: RMSprop (in place) and Adam.

:func:`make_optimizer` builds either; :func:`set_learning_rate` moves the
step size of either (a schedule).

``RMSpropAsync`` computes ``ms = alpha * ms + (1 - alpha) * g * g`` and
``w -= lr * g / sqrt(ms + eps)`` with five temporaries the size of each
parameter, every update. :class:`InPlaceRMSpropAsync` does the same
operations in the same order on two scratch buffers kept per parameter, so
its results are bit for bit ChainerRL's (a test checks it) and its state
and checkpoints are the same.
"""
import chainer
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


class InPlaceAdamRule(chainer.optimizers.adam.AdamRule):

    def update_core_cpu(self, param):
        grad = param.grad
        hp = self.hyperparam
        if grad is None or grad.dtype != np.float32 or hp.amsgrad or \
                hp.adabound or hp.weight_decay_rate != 0:
            return super().update_core_cpu(param)
        self._check_eps(np.float32)
        m, v = self.state['m'], self.state['v']
        scratch = getattr(self, '_scratch', None)
        if scratch is None or scratch.shape != grad.shape:
            scratch = self._scratch = np.empty_like(grad)
        # Chainer's operations in its order, each into the scratch buffer:
        # m += (1 - beta1) * (grad - m); v += (1 - beta2) * (grad^2 - v);
        # param += -eta * (alpha_t / (sqrt(v) + eps) * m).
        np.subtract(grad, m, out=scratch)
        scratch *= 1 - hp.beta1
        m += scratch
        np.multiply(grad, grad, out=scratch)
        scratch -= v
        scratch *= 1 - hp.beta2
        v += scratch
        np.sqrt(v, out=scratch)
        scratch += hp.eps
        np.divide(self.alpha_t, scratch, out=scratch)
        scratch *= m
        scratch *= -hp.eta
        param.array += scratch


class InPlaceAdam(chainer.optimizers.Adam):
    """Chainer's ``Adam`` whose float32 CPU update allocates nothing per
    step (bit for bit the same weights and state; a test checks it)."""

    def create_update_rule(self):
        return InPlaceAdamRule(self.hyperparam)


OPTIMIZERS = ('rmsprop', 'adam')


def make_optimizer(name, lr, rmsprop_epsilon=1e-1):
    """The shared optimizer ``name`` with step size ``lr``.

    ``'rmsprop'``: ChainerRL's A3C optimizer (alpha 0.99, ``eps``
    ``rmsprop_epsilon``), in place. ``'adam'``: Chainer's Adam (beta1 0.9,
    beta2 0.999, eps 1e-8) with ``alpha = lr``, the optimizer the LSTM-CNN
    of Greydanus et al. was trained with, also in place: both write their
    state and the weights in place, so ChainerRL shares them between the
    workers.
    """
    if name == 'rmsprop':
        return InPlaceRMSpropAsync(lr=lr, eps=rmsprop_epsilon, alpha=0.99)
    if name == 'adam':
        return InPlaceAdam(alpha=lr)
    raise ValueError('unknown optimizer {!r}; choose from {}'.format(
        name, ', '.join(OPTIMIZERS)))


def set_learning_rate(optimizer, value):
    """Set the step size (``lr``; Adam's ``alpha``) of ``optimizer``."""
    if isinstance(optimizer, chainer.optimizers.Adam):
        optimizer.alpha = value
    else:
        optimizer.lr = value
