"""Convolutions with ELU or ReLU in NumPy, forward and backward,
channels-last.

Chainer's CPU convolution spends most of its time outside the arithmetic
(im2col, tensordot transposes, per-node overhead). Here a convolution is one
strided view of the padded input, one copy into a ``(positions, patch)``
matrix and one BLAS product; its backward is two products and ``k * k``
strided additions. Arrays are ``(N, H, W, C)``; weights come from Chainer
links (``(O, C, kh, kw)``) and gradients go back in that layout. Tests check
every value and gradient against Chainer.
"""
import numpy as np


def conv_matrix(W):
    """Chainer ``(O, C, kh, kw)`` weights as a ``(kh * kw * C, O)`` matrix
    whose rows follow the channels-last patch order ``(kh, kw, C)``."""
    return np.ascontiguousarray(
        W.transpose(2, 3, 1, 0).reshape(-1, W.shape[0]), dtype=np.float32)


def _patches(x, ksize, stride):
    """``(N, OH, OW, k, k, C)`` strided view of ``x`` ``(N, H, W, C)``."""
    n, height, width, channels = x.shape
    out_h = (height - ksize) // stride + 1
    out_w = (width - ksize) // stride + 1
    sn, sh, sw, sc = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, out_h, out_w, ksize, ksize, channels),
        (sn, sh * stride, sw * stride, sh, sw, sc), writeable=False)


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


class Conv:
    """One convolution ``y = conv(x, W) + b`` with square kernel, stride
    and zero padding, that remembers what its backward needs.

    Args:
        W: ``(O, C, k, k)`` weights (Chainer's layout); b: ``(O,)``.
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.shape = W.shape
        self.ksize = W.shape[2]
        self.stride, self.pad = stride, pad
        self.wmat = conv_matrix(W)
        self.b = np.asarray(b, dtype=np.float32)
        self._padded = {}
        self._channels_first = False   # how the kept patches are ordered

    @classmethod
    def from_link(cls, link):
        """The convolution of a ``chainer.links.Convolution2D`` with a
        square kernel and equal strides and paddings along both axes.

        Raises:
            ValueError: any other convolution.
        """
        stride, pad = _pair(link.stride), _pair(link.pad)
        if stride[0] != stride[1] or pad[0] != pad[1] or \
                link.W.shape[2] != link.W.shape[3]:
            raise ValueError('unsupported convolution: stride {}, pad {}, '
                             'kernel {}'.format(stride, pad,
                                                link.W.shape[2:]))
        return cls(link.W.array, link.b.array, stride[0], pad[0])

    def forward(self, x, keep=False):
        """``x`` ``(N, H, W, C)`` -> ``(N, OH, OW, O)``; ``keep`` stores the
        patch matrix for :meth:`backward`."""
        cols, (n, out_h, out_w) = self._columns(x, keep)
        y = cols @ self.wmat
        y += self.b
        return y.reshape(n, out_h, out_w, -1)

    def keep_input(self, x):
        """Store what :meth:`backward` needs of input ``x`` ``(N, H, W,
        C)`` without computing the output (known from elsewhere)."""
        self._columns(x, True)
        self._channels_first = False

    def keep_channels_first_input(self, x):
        """As :meth:`keep_input` for an input ``(N, C, H, W)`` (Chainer's
        layout, no padding), for the weight gradient alone: the patches
        are taken in the weights' own ``(C, kh, kw)`` order, so neither
        the input nor the gradient is transposed."""
        if self.pad:
            raise ValueError('a padded convolution needs keep_input')
        k, s = self.ksize, self.stride
        n, channels, height, width = x.shape
        out_h, out_w = (height - k) // s + 1, (width - k) // s + 1
        sn, sc, sh, sw = x.strides
        view = np.lib.stride_tricks.as_strided(
            x, (n, out_h, out_w, channels, k, k),
            (sn, sh * s, sw * s, sc, sh, sw), writeable=False)
        self._cols = view.reshape(n * out_h * out_w, -1)
        self._in_shape = None
        self._channels_first = True

    def _columns(self, x, keep):
        """The ``(positions, k * k * C)`` patch matrix of ``x`` and the
        output's ``(N, OH, OW)``; ``keep`` stores it for the backward."""
        p = self.pad
        if p:
            # A zero-bordered buffer per input shape: only its inside is
            # written, the border stays zero.
            n, height, width, channels = x.shape
            padded = self._padded.get(x.shape)
            if padded is None:
                padded = np.zeros((n, height + 2 * p, width + 2 * p,
                                   channels), dtype=np.float32)
                self._padded[x.shape] = padded
            padded[:, p:p + height, p:p + width] = x
            x = padded
        view = _patches(x, self.ksize, self.stride)
        n, out_h, out_w = view.shape[:3]
        cols = view.reshape(n * out_h * out_w, -1)
        if keep:
            self._cols, self._in_shape = cols, x.shape
        return cols, (n, out_h, out_w)

    def backward(self, gy, need_input_grad=True):
        """Gradients of the last kept :meth:`forward`: ``(gx, gW, gb)``,
        ``gW`` in Chainer's layout, ``gx`` None unless asked for."""
        g = gy.reshape(-1, gy.shape[-1])
        # (O, positions) @ (positions, patch): measured about 1.5x faster
        # than the same product as cols.T @ g when the columns are not in
        # the cache.
        out, channels, kh, kw = self.shape
        gW = g.T @ self._cols
        if self._channels_first:
            gW = gW.reshape(self.shape)
        else:
            gW = gW.reshape(out, kh, kw, channels).transpose(0, 3, 1, 2)
        gb = g.sum(axis=0)
        gx = None
        if need_input_grad:
            if self._in_shape is None:
                raise ValueError('no input gradient after '
                                 'keep_channels_first_input')
            gx = self.input_gradient(gy, self._in_shape)
        self._cols = None
        return gx, gW, gb

    def input_gradient(self, gy, in_shape):
        """The gradient at the input of ``gy`` ``(N, OH, OW, O)`` at the
        output, for an input of (padded) shape ``in_shape`` ``(N, H, W,
        C)``; needs nothing kept from a forward (the convolution is
        linear)."""
        n, height, width, channels = in_shape
        k, s = self.ksize, self.stride
        out_h, out_w = gy.shape[1:3]
        gcols = (gy.reshape(-1, gy.shape[-1]) @ self.wmat.T).reshape(
            n, out_h, out_w, k, k, channels)
        gx = np.zeros(in_shape, dtype=np.float32)
        for ky in range(k):
            for kx in range(k):
                gx[:, ky:ky + s * (out_h - 1) + 1:s,
                   kx:kx + s * (out_w - 1) + 1:s] += gcols[:, :, :, ky, kx]
        p = self.pad
        if p:
            gx = gx[:, p:height - p, p:width - p]
        return gx


def elu(z):
    """ELU with alpha 1: ``z`` where positive, ``exp(z) - 1`` elsewhere.

    Computed in place as ``max(z, 0) + expm1(min(z, 0))``: one of the two
    terms is always zero, so the sum is exact.
    """
    negative = np.minimum(z, 0)
    np.expm1(negative, out=negative)
    np.maximum(z, 0, out=z)
    z += negative
    return z


def elu_backward(y, gy):
    """Gradient through an ELU from its output ``y``: slope 1 where
    ``y > 0``, ``exp(z) = y + 1`` elsewhere, i.e. ``min(y + 1, 1)``."""
    slope = y + np.float32(1)
    np.minimum(slope, 1, out=slope)
    slope *= gy
    return slope


def _channels_last(x):
    """``(N, C, H, W)`` -> a C-contiguous float32 ``(N, H, W, C)``."""
    x = np.asarray(x, np.float32)
    if x.shape[1] == 1:
        return np.ascontiguousarray(x.reshape(x.shape[0], x.shape[2],
                                              x.shape[3], 1))
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def relu(z):
    """ReLU in place: ``max(z, 0)``."""
    np.maximum(z, 0, out=z)
    return z


def relu_backward(y, gy):
    """Gradient through a ReLU from its output ``y``: ``gy`` where
    ``y > 0``, 0 elsewhere (Chainer's rule)."""
    return gy * (y > 0)


# name -> (forward in place, backward from the output)
ACTIVATIONS = {'elu': (elu, elu_backward), 'relu': (relu, relu_backward)}


class ConvStack:
    """Convolution links, each followed by the same activation, run in
    NumPy.

    Takes and returns Chainer's ``(N, C, H, W)`` layout; works in
    channels-last inside. :meth:`backward` returns the links' weight and
    bias gradients for the last ``forward(..., keep=True)`` (or
    :meth:`keep`).

    Args:
        links: ``chainer.links.Convolution2D`` links with square kernels and
            equal strides and paddings along both axes.
        activation (str): ``'elu'`` (the LSTM-CNN) or ``'relu'`` (the
            ICLR-ACER head).
    """

    def __init__(self, links, activation='elu'):
        if activation not in ACTIVATIONS:
            raise ValueError('unknown activation {!r}; choose from {}'.format(
                activation, ', '.join(sorted(ACTIVATIONS))))
        self.layers = [Conv.from_link(link) for link in links]
        self._activate, self._backward = ACTIVATIONS[activation]
        self._outputs = None

    def forward(self, x, keep=False):
        h = _channels_last(x)
        outputs = []
        for layer in self.layers:
            h = self._activate(layer.forward(h, keep))
            outputs.append(h)
        self._outputs = outputs if keep else None
        return np.ascontiguousarray(h.transpose(0, 3, 1, 2))

    def keep(self, x, outputs):
        """Prepare :meth:`backward` from the input ``x`` and every layer's
        output (after its activation) ``(N, C, H, W)``, computed elsewhere
        with these weights (an acting pass), instead of a ``forward``."""
        outputs = [_channels_last(y) for y in outputs]
        first = self.layers[0]
        # The first layer needs no input gradient: its patches come from
        # the input as it is, unless it is padded.
        if first.pad:
            first.keep_input(_channels_last(x))
        else:
            first.keep_channels_first_input(np.asarray(x, np.float32))
        for layer, h in zip(self.layers[1:], outputs[:-1]):
            layer.keep_input(h)
        self._outputs = outputs

    def backward(self, gy):
        """``gy`` ``(N, C, H, W)`` at the output -> ``[(gW, gb), ...]``."""
        g = np.ascontiguousarray(np.asarray(gy, np.float32).transpose(
            0, 2, 3, 1))
        grads = []
        for i in reversed(range(len(self.layers))):
            g = self._backward(self._outputs[i], g)
            g, gW, gb = self.layers[i].backward(g, need_input_grad=i > 0)
            grads.append((gW, gb))
        self._outputs = None
        return grads[::-1]
