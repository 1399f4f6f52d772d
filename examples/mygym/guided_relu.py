"""Guided ReLU: a ReLU whose backward pass follows ``chainer.config.train``.

Forward is ``max(x, 0)`` in both modes. Backward:

* ``chainer.config.train`` True (training): the plain ReLU gradient,
  ``gx = gy * (y > 0)``, so the network trains as an ordinary ReLU network.
* ``chainer.config.train`` False (testing / demo): the guided-backpropagation
  rule of Springenberg et al. 2014, ``gx = gy * (y > 0) * (gy > 0)``: only
  positive signals coming from above pass, which sharpens input saliency.

The mode is read when the backward pass runs, so a saliency computation must
call ``backward()`` / ``chainer.grad()`` inside
``chainer.using_config('train', False)``.
"""
import chainer
from chainer import function_node


class GuidedReLU(function_node.FunctionNode):
    """ReLU whose gradient follows the guided rule outside training."""

    def forward(self, inputs):
        x, = inputs
        xp = chainer.backend.get_array_module(x)
        self.retain_outputs((0,))
        return xp.maximum(x, x.dtype.type(0)),

    def backward(self, indexes, grad_outputs):
        gy, = grad_outputs
        y = self.get_retained_outputs()[0].array
        guided = not chainer.config.train
        return GuidedReLUGrad(y, guided).apply((gy,))


class GuidedReLUGrad(function_node.FunctionNode):
    """Backward of :class:`GuidedReLU`; linear in ``gy`` given its mask."""

    def __init__(self, y, guided):
        self.y = y
        self.guided = guided

    def _mask(self, gy):
        mask = self.y > 0
        if self.guided:
            mask &= gy > 0
        return mask

    def forward(self, inputs):
        gy, = inputs
        self.retain_inputs((0,))
        return (gy * self._mask(gy)).astype(gy.dtype, copy=False),

    def backward(self, indexes, grad_outputs):
        ggx, = grad_outputs
        gy = self.get_retained_inputs()[0].array
        # The mask is fixed by the forward pass: the map gy -> gx is linear.
        return ggx * self._mask(gy).astype(ggx.dtype),


def guided_relu(x):
    """Apply the guided ReLU to ``x`` (a ``chainer.Variable`` or array).

    Args:
        x: input of any shape, float dtype.

    Returns:
        chainer.Variable: ``max(x, 0)``, same shape and dtype as ``x``.
    """
    y, = GuidedReLU().apply((x,))
    return y


class GuidedELU(function_node.FunctionNode):
    """ELU (alpha 1) whose gradient follows the guided rule outside training.

    Forward: ``x`` if ``x > 0`` else ``exp(x) - 1``. Backward, with
    ``d = 1 if x > 0 else exp(x)`` the ELU's derivative:
    ``gx = gy * d`` while ``chainer.config.train`` is True, and
    ``gx = gy * d * (gy > 0)`` while it is False: as at a guided ReLU, only
    positive gradient signals pass. (Unlike a ReLU, an ELU also passes them
    where ``x < 0``, scaled by ``exp(x)``.) The second derivative through
    ``d`` is not provided; A3C needs first derivatives only.
    """

    def forward(self, inputs):
        x, = inputs
        xp = chainer.backend.get_array_module(x)
        self.retain_inputs((0,))
        y = xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)))
        return y.astype(x.dtype, copy=False),

    def backward(self, indexes, grad_outputs):
        gy, = grad_outputs
        x = self.get_retained_inputs()[0].array
        xp = chainer.backend.get_array_module(x)
        slope = xp.where(x > 0, 1, xp.exp(xp.minimum(x, 0))).astype(x.dtype)
        if not chainer.config.train:
            slope = slope * (gy.array > 0)
        return gy * slope,


def guided_elu(x):
    """Apply the guided ELU to ``x``; same shape and dtype."""
    y, = GuidedELU().apply((x,))
    return y
