"""A whole training segment of an LSTM as one Chainer function.

``chainer.links.LSTM`` stepped ``T`` times makes ``T`` graphs of a few
nodes each, and its backward adds ``T`` full-size lateral weight gradients.
:func:`lstm_segment` computes the same outputs from the segment's upward
pre-activations ``U`` (one batched ``lstm.upward`` call) and the lateral
weight, and backpropagates through time in NumPy with one product for the
lateral weight's gradient. The state the segment starts from is a constant,
as after ChainerRL's ``unchain_backward``. Gates follow Chainer's ``F.lstm``:
the four pre-activations of a unit are adjacent, in the order
``a`` (tanh), ``i``, ``f``, ``o`` (sigmoids); ``c = a * i + f * c_prev``,
``h = o * tanh(c)``.
"""
import chainer
import numpy as np
from chainer import function_node


def _sigmoid(x):
    # Chainer's formula: the same rounding as F.sigmoid.
    return np.tanh(x * 0.5) * 0.5 + 0.5


def lstm_cell(z, c_prev):
    """Chainer's ``F.lstm`` in NumPy.

    Args:
        z: pre-activations ``(..., 4S)``, the four of a unit adjacent.
        c_prev: the previous cell ``(..., S)`` (or 0).

    Returns:
        ``(gates, c, h)``: the activated gates ``(..., S, 4)``, the cell
        and the output ``(..., S)``.
    """
    g = z.reshape(z.shape[:-1] + (-1, 4))
    gates = np.empty_like(g)
    gates[..., 0] = np.tanh(g[..., 0])
    gates[..., 1:] = _sigmoid(g[..., 1:])
    c = gates[..., 0] * gates[..., 1] + gates[..., 2] * c_prev
    return gates, c, gates[..., 3] * np.tanh(c)


class LSTMSegment(function_node.FunctionNode):
    """``(U (T, 4S), W_lateral (4S, S)) -> H (T, S)`` from ``(c0, h0)``."""

    def __init__(self, c0, h0):
        self.c0, self.h0 = c0, h0

    def forward_cpu(self, inputs):
        upward, lateral = inputs
        steps, size = len(upward), lateral.shape[1]
        dtype = upward.dtype
        h = np.zeros((1, size), dtype) if self.h0 is None else self.h0
        c = np.zeros((1, size), dtype) if self.c0 is None else self.c0
        gates = np.empty((steps, size, 4), dtype)
        cells = np.empty((steps + 1, size), dtype)
        hs = np.empty((steps + 1, size), dtype)
        cells[0], hs[0] = c[0], h[0]
        for t in range(steps):
            gates[t], cells[t + 1], hs[t + 1] = lstm_cell(
                upward[t] + hs[t] @ lateral.T, cells[t])
        self._saved = gates, cells, hs
        self.retain_inputs((1,))
        return hs[1:].copy(),

    def backward(self, indexes, grad_outputs):
        gh, = grad_outputs
        lateral = self.get_retained_inputs()[0].array
        gates, cells, hs = self._saved
        steps, size = gates.shape[:2]
        gz = np.empty_like(gates)
        dh_next = np.zeros(size, gates.dtype)
        dc_next = np.zeros(size, gates.dtype)
        gh = np.zeros((steps, size), gates.dtype) if gh is None else gh.array
        for t in reversed(range(steps)):
            a, i, f, o = (gates[t, :, k] for k in range(4))
            dh = gh[t] + dh_next
            tanh_c = np.tanh(cells[t + 1])
            dc = dh * o * (1 - tanh_c * tanh_c) + dc_next
            gz[t, :, 0] = dc * i * (1 - a * a)
            gz[t, :, 1] = dc * a * i * (1 - i)
            gz[t, :, 2] = dc * cells[t] * f * (1 - f)
            gz[t, :, 3] = dh * tanh_c * o * (1 - o)
            dc_next = dc * f
            dh_next = gz[t].reshape(-1) @ lateral
        gz = gz.reshape(steps, -1)
        grads = []
        if 0 in indexes:
            grads.append(chainer.Variable(gz))
        if 1 in indexes:
            grads.append(chainer.Variable(gz.T @ hs[:-1]))
        return tuple(grads)


def lstm_segment(lstm, x, state=None):
    """Outputs ``(T, S)`` of ``lstm`` (a ``chainer.links.LSTM``) stepped
    through the rows of ``x`` from ``state`` (``(c, h)`` arrays of shape
    ``(1, S)``, or None for zeros); the link's own state is left alone."""
    c0, h0 = (None, None) if state is None else state
    upward = lstm.upward(x)
    h, = LSTMSegment(c0, h0).apply((upward, lstm.lateral.W))
    return h
