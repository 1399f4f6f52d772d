"""Inference-only NumPy forwards of the suite's actor-critics.

:class:`FastFFForward` runs the ICLR-ACER network (A3CFF),
:class:`FastLSTMForward` the LSTM-CNN, one step from a given LSTM state.

Perturbation saliency runs hundreds of inputs per frame through the network
and needs no gradients, and Chainer's CPU convolution gains little from
batching. So this forward makes each convolution one strided view of its
input (no im2col loop), one copy into a ``(positions, patch)`` matrix and
one BLAS matrix product, channels-last after the first layer. For masked
inputs it recomputes the first layer only where a mask perturbs the input
(:meth:`FastFFForward.masked`). It computes what the Chainer model computes
(ReLU forward; the guided ReLU's forward is a plain ReLU) to float32
rounding; tests check it against the model.

:func:`fast_forward_for` returns one for a model it can run, else None (the
caller then uses the Chainer model): the one test of whether it applies,
used by acting in training and by perturbation saliency alike.
"""
import numpy as np
from chainer import functions as F
from chainer import links as L
from chainerrl.policies import FCSoftmaxPolicy
from chainerrl.v_function import FCVFunction

from guided_relu import guided_elu, guided_relu
from lstm_segment import lstm_cell
from npconv import Conv, ConvELUStack
from recurrent_state import steps_one_lstm


def _first_layer_matrix(conv):
    """Chainer ``(O, C, kh, kw)`` weights as a ``(C * kh * kw, O)`` matrix:
    rows in the order of channels-first patches."""
    w = conv.W.array
    return np.ascontiguousarray(w.reshape(w.shape[0], -1).T,
                                dtype=np.float32)


def _output_span(touched, ksize, stride, n_out):
    """First and last output index whose receptive field meets a touched
    input index, per mask: ``touched`` is ``[k, n_in]`` bool. Masks that
    touch nothing get an empty span at 0."""
    any_touched = touched.any(axis=1)
    first = np.where(any_touched, touched.argmax(axis=1), 0)
    last = np.where(any_touched,
                    touched.shape[1] - 1 - touched[:, ::-1].argmax(axis=1), 0)
    lo = np.maximum(0, -(-(first - ksize + 1) // stride))
    hi = np.minimum(n_out - 1, last // stride)
    return lo, np.maximum(hi, lo)


class FastFFForward:
    """``(k, C, H, W)`` float32 -> actor scores and values.

    Args:
        model: an ``A3CFF`` whose head uses ReLU or guided ReLU, with a
            softmax policy and a state-value head.
    """

    def __init__(self, model):
        head = model.head
        first = head[0]
        # The first layer reads the channels-first input itself (masked
        # windows are cut from it); the others are npconv convolutions.
        self.first = (_first_layer_matrix(first),
                      first.b.array.astype(np.float32),
                      first.ksize if isinstance(first.ksize, tuple)
                      else (first.ksize, first.ksize),
                      first.stride if isinstance(first.stride, tuple)
                      else (first.stride, first.stride))
        self.convs = [Conv.from_link(c) for c in head[1:3]]
        linear = head[3]
        w = linear.W.array                        # (256, C*h*w), C-major
        channels = head[2].W.shape[0]
        side = int(round((w.shape[1] / channels) ** 0.5))
        self.linear = (np.ascontiguousarray(
            w.reshape(-1, channels, side, side).transpose(2, 3, 1, 0)
            .reshape(-1, w.shape[0]), dtype=np.float32),
            linear.b.array.astype(np.float32))
        pi, v = model.pi.model.output, model.v.model.output
        self.pi = (np.ascontiguousarray(pi.W.array.T), pi.b.array)
        self.v = (np.ascontiguousarray(v.W.array.T), v.b.array)

    @staticmethod
    def _first_conv_relu(x, weights, bias, ksize, stride):
        """Valid convolution + bias + ReLU of channels-first ``x``
        ``(k, C, H, W)`` as one matrix product; returns ``(k, OH, OW, O)``.
        """
        k, channels, height, width = x.shape
        sk, sc, sy, sx = x.strides
        kh, kw = ksize
        sh, sw = stride
        out_h = (height - kh) // sh + 1
        out_w = (width - kw) // sw + 1
        # Innermost axes (C, kh, kw): the rows of the weight matrix.
        patches = np.lib.stride_tricks.as_strided(
            x, (k, out_h, out_w, channels, kh, kw),
            (sk, sy * sh, sx * sw, sc, sy, sx), writeable=False)
        out = patches.reshape(k * out_h * out_w, -1) @ weights
        out += bias
        np.maximum(out, 0, out=out)
        return out.reshape(k, out_h, out_w, -1)

    def __call__(self, x):
        """``(k, C, H, W)`` float32 -> (scores ``(k, n)``, values ``(k,)``).
        """
        h = np.ascontiguousarray(x, dtype=np.float32)
        return self._from_first_layer(self._first_conv_relu(h, *self.first))

    def masked(self, state, keep, fill, recurrent_state=None):
        """Scores and values of ``K * I + (1 - K) * F`` for each keep mask.

        Equal to ``self(masked_inputs(state, keep, fill))``, but where the
        masks perturb only a small window (Greydanus blobs, sliding
        windows), the first convolution is computed once for ``I`` and
        recomputed per mask only on the outputs whose receptive field meets
        the mask's perturbed pixels; elsewhere the masked input equals ``I``
        exactly, and so does the output.

        Args:
            state: ``(C, H, W)`` float32; keep: ``[k, H, W]``; fill:
                broadcastable to ``state``; recurrent_state: ignored
                (the network has no state).
        """
        weights, bias, (kh, kw), (sh, sw) = self.first
        channels, height, width = state.shape
        out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
        touched = keep < 1
        rows = _output_span(touched.any(axis=2), kh, sh, out_h)
        cols = _output_span(touched.any(axis=1), kw, sw, out_w)
        win_h = int((rows[1] - rows[0]).max(initial=0)) + 1
        win_w = int((cols[1] - cols[0]).max(initial=0)) + 1
        if win_h * win_w > 0.6 * out_h * out_w:
            batch = keep[:, None] * state[None] + (1 - keep[:, None]) * fill
            return self(batch.astype(np.float32))
        base = self._first_conv_relu(state[None], weights, bias, (kh, kw),
                                     (sh, sw))[0]
        top = np.clip(rows[0], 0, out_h - win_h)
        left = np.clip(cols[0], 0, out_w - win_w)
        in_h, in_w = (win_h - 1) * sh + kh, (win_w - 1) * sw + kw
        fill = np.broadcast_to(np.asarray(fill, dtype=np.float32),
                               state.shape)
        windows = np.empty((len(keep), channels, in_h, in_w), np.float32)
        for i, (y, x) in enumerate(zip(top * sh, left * sw)):
            k = keep[i, y:y + in_h, x:x + in_w]
            windows[i] = (k * state[:, y:y + in_h, x:x + in_w]
                          + (1 - k) * fill[:, y:y + in_h, x:x + in_w])
        patched = self._first_conv_relu(windows, weights, bias, (kh, kw),
                                        (sh, sw))
        h = np.repeat(base[None], len(keep), axis=0)
        for i, (y, x) in enumerate(zip(top, left)):
            h[i, y:y + win_h, x:x + win_w] = patched[i]
        return self._from_first_layer(h)

    def _from_first_layer(self, h):
        for conv in self.convs:
            h = conv.forward(h)
            np.maximum(h, 0, out=h)
        h = h.reshape(len(h), -1) @ self.linear[0]
        h += self.linear[1]
        np.maximum(h, 0, out=h)
        scores = h @ self.pi[0] + self.pi[1]
        values = (h @ self.v[0] + self.v[1])[:, 0]
        return scores, values


class FastLSTMForward:
    """One step of the LSTM-CNN: ``(k, 1, 80, 80)`` and an LSTM state ->
    scores, values and the next state.

    Args:
        model: an ``A3CLSTMCNN`` (ELU convolutions, ``lstm``, softmax
            policy and value heads).
    """

    def __init__(self, model):
        self.convs = ConvELUStack(model.convs)
        # Transposed views: BLAS reads them as they are, no copies.
        self.upward = (model.lstm.upward.W.array.T,
                       model.lstm.upward.b.array)
        self.lateral = model.lstm.lateral.W.array.T
        pi, v = model.pi.model.output, model.v.model.output
        self.pi = (pi.W.array.T, pi.b.array)
        self.v = (v.W.array.T, v.b.array)

    def step(self, x, state=None):
        """``x`` ``(k, C, H, W)``; ``state`` None (zeros) or ``(c, h)``
        ``(k, 256)``. Returns ``(scores (k, n), values (k,), (c, h))``."""
        features = self.convs.forward(x).reshape(len(x), -1)
        z = features @ self.upward[0] + self.upward[1]
        c_prev = 0.0
        if state is not None:
            c_prev, h_prev = state
            z += h_prev @ self.lateral
        _, c, h = lstm_cell(z, c_prev)
        scores = h @ self.pi[0] + self.pi[1]
        values = (h @ self.v[0] + self.v[1])[:, 0]
        return scores, values, (c.astype(np.float32), h.astype(np.float32))

    def masked(self, state, keep, fill, recurrent_state=None):
        """Scores and values of ``K * I + (1 - K) * F`` for each keep mask,
        every one from the flat ``recurrent_state`` (None: zeros)."""
        k = len(keep)
        batch = (keep[:, None] * state[None]
                 + (1 - keep[:, None]) * fill).astype(np.float32)
        lstm_state = None
        if recurrent_state is not None:
            c, h = np.split(np.asarray(recurrent_state, np.float32), 2)
            lstm_state = (np.repeat(c[None], k, 0), np.repeat(h[None], k, 0))
        scores, values, _ = self.step(batch, lstm_state)
        return scores, values


def _softmax_heads(model):
    """Whether acting draws from a softmax of the plain logits and the
    critic is a state-value head."""
    pi = getattr(model, 'pi', None)
    return (isinstance(pi, FCSoftmaxPolicy) and pi.beta == 1.0
            and pi.min_prob == 0.0
            and isinstance(getattr(model, 'v', None), FCVFunction))


def _runs_lstm_cnn(model):
    convs = getattr(model, 'convs', None)
    return (steps_one_lstm(model) and convs is not None
            and getattr(model, 'activation', None) in (guided_elu, F.elu)
            and all(isinstance(c, L.Convolution2D) for c in convs)
            and _softmax_heads(model))


def network_kind(model):
    """``'lstm'`` (an LSTM-CNN), ``'ff'`` (an ICLR-ACER A3CFF) or None:
    which of the suite's networks ``model`` is, as far as inference-only
    forwards (these and :mod:`engine`) can run it."""
    if _runs_lstm_cnn(model):
        return 'lstm'
    head = getattr(model, 'head', None)
    if head is None or getattr(head, 'activation', None) not in (
            guided_relu, F.relu):
        return None
    if not _softmax_heads(model):
        return None
    if len(head) != 4 or any(getattr(c, 'pad', (0, 0)) not in (0, (0, 0))
                             for c in head[:3]):
        return None
    if any(getattr(layer, 'W', None) is None or layer.W.array is None
           for layer in head):
        return None
    return 'ff'


def fast_forward_for(model):
    """A NumPy forward for ``model``, or None if it cannot run it:
    :class:`FastFFForward`, :class:`FastLSTMForward`."""
    kind = network_kind(model)
    try:
        if kind == 'lstm':
            return FastLSTMForward(model)
        if kind == 'ff':
            return FastFFForward(model)
    except ValueError:          # a convolution npconv does not run
        return None
    return None
