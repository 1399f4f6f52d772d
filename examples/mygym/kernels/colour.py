"""Gray levels of RGB frames: the weights every preprocessing path and the
renderer use."""
import numpy as np

# ITU-R BT.709 luminance.
LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
# ITU-R BT.601, the weights of OpenCV's COLOR_RGB2GRAY (ChainerRL's Atari
# wrappers).
BT601_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def luminance(rgb):
    """BT.709 luminance of ``(..., 3)`` RGB values, as float32 ``(...)``."""
    return np.asarray(rgb, dtype=np.float32) @ LUMA_WEIGHTS


def luma8(rgb):
    """:func:`luminance` rounded to uint8 levels."""
    return np.clip(np.rint(luminance(rgb)), 0, 255).astype(np.uint8)
