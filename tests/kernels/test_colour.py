"""kernels/colour.py: gray levels by hand."""
import numpy as np

from kernels.colour import luma8, luminance


def test_luma8_uses_the_bt709_weights():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    # 0.2126, 0.7152, 0.0722 of 255, rounded.
    np.testing.assert_array_equal(luma8(rgb), [[54, 182, 18]])
    assert luma8(rgb).dtype == np.uint8
    np.testing.assert_allclose(luminance(rgb), [[54.213, 182.376, 18.411]],
                               rtol=1e-5)
