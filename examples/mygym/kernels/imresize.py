"""scipy's old ``imresize`` of a float frame, step by step, without scipy.

Greydanus et al. (visualize_atari, baby-a3c) made each frame with
``scipy.misc.imresize(img[35:195].mean(2), (80, 80))``. scipy removed
``imresize`` in 1.3; what it did to a float array is two small steps, each
written here on its own so that a reader can check it against its source:

1. :func:`bytescale`: the float frame is stretched by its own minimum and
   maximum onto 0..255 and rounded half up (``trunc(clip((x - min) * 255 /
   (max - min), 0, 255) + 0.5)``; a flat frame, ``max == min``, divides by
   1). A frame's brightness is thus relative to its darkest and brightest
   pixel, not absolute.
2. :func:`pillow_bilinear`: Pillow's ``Image.resize(..., BILINEAR)`` of
   that 8-bit image. Since Pillow 2.7 this is a convolution with a
   triangle whose support grows with the downscale factor (antialiased),
   horizontal pass first, each output rounded to 8 bits; the weights are
   fixed-point numbers with 22 fractional bits (Pillow's
   ``PRECISION_BITS``), which :func:`pillow_weights` reproduces exactly.
   The passes run as float64 matrix products of integers (every partial
   sum stays below 2**53, so the result is Pillow's bit for bit).
"""
import numpy as np

PRECISION_BITS = 32 - 8 - 2     # Pillow's Resample.c, 8-bit images


def bytescale(frame):
    """``frame`` (float) stretched onto 0..255 by its own extremes, as
    scipy's ``bytescale`` (``imresize``'s first step): uint8."""
    frame = np.asarray(frame, dtype=np.float64)
    low, high = frame.min(), frame.max()
    span = high - low
    if span == 0:
        span = 1
    scaled = (frame - low) * (255.0 / span)
    return (np.clip(scaled, 0, 255) + 0.5).astype(np.uint8)


def pillow_weights(n_in, n_out):
    """Pillow's bilinear resampling weights from ``n_in`` to ``n_out``
    pixels, as the integers it multiplies with (``(n_out, n_in)`` int64,
    in units of ``2 ** -PRECISION_BITS``).

    Output ``i`` is centred at ``(i + 0.5) * scale`` input pixels (``scale
    = n_in / n_out``); the triangle ``max(0, 1 - |t|)`` is stretched by
    ``max(scale, 1)``, taps from ``int(centre - support + 0.5)`` to
    ``int(centre + support + 0.5)`` (clipped to the image), normalised to
    sum 1, then each rounded half away from zero to the fixed point.
    """
    scale = n_in / n_out
    stretch = max(scale, 1.0)
    support = stretch
    weights = np.zeros((n_out, n_in), dtype=np.int64)
    for i in range(n_out):
        centre = (i + 0.5) * scale
        first = max(int(centre - support + 0.5), 0)
        stop = min(int(centre + support + 0.5), n_in)
        taps = np.arange(first, stop)
        t = np.abs((taps - centre + 0.5) / stretch)
        w = np.where(t < 1, 1 - t, 0.0)
        total = w.sum()
        if total != 0:
            w = w / total
        fixed = w * (1 << PRECISION_BITS)
        weights[i, first:stop] = np.where(fixed < 0, fixed - 0.5,
                                          fixed + 0.5).astype(np.int64)
    return weights


def _pass(weights, image):
    """One pass: ``weights @ image`` rounded and clipped to 8 bits as
    Pillow does (``(sum + 2 ** 21) >> 22``, then 0..255)."""
    total = weights.astype(np.float64) @ image.astype(np.float64)
    total += 1 << (PRECISION_BITS - 1)
    return np.clip(np.floor(total / (1 << PRECISION_BITS)), 0,
                   255).astype(np.uint8)


class PillowBilinear:
    """:func:`pillow_bilinear` with its weight matrices kept per size."""

    def __init__(self):
        self._weights = {}

    def weights(self, n_in, n_out):
        key = n_in, n_out
        if key not in self._weights:
            self._weights[key] = pillow_weights(n_in, n_out)
        return self._weights[key]

    def __call__(self, image, size):
        """``image`` ``(h, w)`` uint8 -> ``size`` ``(H, W)`` uint8."""
        h, w = image.shape
        rows = self.weights(h, size[0])
        cols = self.weights(w, size[1])
        across = _pass(cols, image.T).T         # horizontal pass first
        return _pass(rows, across)


def pillow_bilinear(image, size):
    """Pillow's ``Image.fromarray(image).resize((W, H), BILINEAR)`` of a
    2-D uint8 ``image``, ``size`` ``(H, W)``: uint8 ``(H, W)``."""
    return PillowBilinear()(np.asarray(image, dtype=np.uint8), size)


def imresize(frame, size, resizer=None):
    """scipy's ``imresize(frame, size)`` of a 2-D float ``frame``
    (bilinear, the default): :func:`bytescale` then
    :func:`pillow_bilinear`; uint8 ``size``."""
    resizer = resizer or PillowBilinear()
    return resizer(bytescale(frame), size)
