"""The composite demo frame: both maps side by side, and what the agent
thinks, in strips under them (as in the videos of Greydanus et al.).

::

    +----------------------+---+----------------------+
    | frame + actor map    |   | frame + critic map   |
    | (green)              |   | (red)                |
    +----------------------+---+----------------------+
    | action probabilities |   | value estimate over  |
    | (taken one in white) |   | time (newest right)  |
    +----------------------+---+----------------------+

The strips are drawn with Pillow on the same width as the panels; the
whole frame has even sides (H.264 wants them).
"""
import numpy as np
from PIL import Image, ImageDraw, ImageFont

GAP = 8
# Pixels of strip per unit of magnification, and steps of value history.
STRIP = 48
HISTORY = 150
BACKGROUND = (24, 24, 24)
BAR = (110, 110, 110)
TAKEN = (255, 255, 255)
VALUE = (255, 80, 80)
AXIS = (70, 70, 70)
TEXT = (220, 220, 220)


def _font():
    return ImageFont.load_default()


def probability_strip(size, probs, action, names=None):
    """``(h, w, 3)`` uint8: one horizontal bar per action, its length the
    probability, the taken ``action`` in white, with names and figures."""
    width, height = size
    image = Image.new('RGB', (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = _font()
    n = len(probs)
    row = height / max(n, 1)
    label_w = min(width // 3, 90)
    for i, p in enumerate(probs):
        top = int(i * row) + 1
        bottom = max(top, int((i + 1) * row) - 2)
        name = names[i] if names is not None and i < len(names) else str(i)
        colour = TAKEN if i == action else BAR
        draw.text((2, top), name[:12], fill=colour, font=font)
        right = label_w + int(round(float(p) * (width - label_w - 40)))
        draw.rectangle([label_w, top, max(label_w, right), bottom],
                       fill=colour)
        draw.text((right + 3, top), '{:.2f}'.format(float(p)), fill=TEXT,
                  font=font)
    return np.asarray(image)


def value_strip(size, values):
    """``(h, w, 3)`` uint8: the last :data:`HISTORY` values as a line (the
    newest at the right edge, scaled to their own range) and the newest
    value written out."""
    width, height = size
    image = Image.new('RGB', (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    recent = np.asarray(values[-HISTORY:], dtype=np.float64)
    top, bottom = 14, height - 4
    low, high = float(recent.min()), float(recent.max())
    if high - low < 1e-6:
        low, high = low - 0.5, high + 0.5
    if low < 0 < high:
        zero = bottom - (0 - low) / (high - low) * (bottom - top)
        draw.line([(0, zero), (width - 1, zero)], fill=AXIS)
    step = (width - 1) / (HISTORY - 1)
    start = width - 1 - (len(recent) - 1) * step
    points = [(start + i * step,
               bottom - (v - low) / (high - low) * (bottom - top))
              for i, v in enumerate(recent)]
    if len(points) > 1:
        draw.line(points, fill=VALUE, width=2)
    else:
        draw.point(points, fill=VALUE)
    draw.text((2, 1), 'value {:+.3f}  [{:+.2f}, {:+.2f}]'.format(
        recent[-1], low, high), fill=TEXT, font=_font())
    return np.asarray(image)


def composite_frame(actor_frame, critic_frame, probs, action, values,
                    names=None, magnify=2):
    """One composite video frame (see the module), ``uint8 (H, W, 3)``.

    Args:
        actor_frame, critic_frame: the two streams' frames of this step,
            ``(h, w, 3)`` uint8 each.
        probs: ``(n_actions,)`` action probabilities of this step.
        action (int): the action taken.
        values: the value estimates of the episode so far, this step's
            last.
        names: action names, or None for their indices.
        magnify (int): the frames' magnification (sets the strip height).
    """
    height, width = actor_frame.shape[:2]
    strip_h = STRIP * magnify
    strips = (probability_strip((width, strip_h), probs, action, names),
              value_strip((width, strip_h), values))
    out = np.full((height + strip_h + (height + strip_h) % 2,
                   2 * width + GAP + (2 * width + GAP) % 2, 3), 0, np.uint8)
    out[:height, :width] = actor_frame
    out[:height, width + GAP:2 * width + GAP] = critic_frame
    out[height:height + strip_h, :width] = strips[0]
    out[height:height + strip_h, width + GAP:2 * width + GAP] = strips[1]
    return out
