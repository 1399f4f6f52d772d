"""scipy's imresize, step by step, on real ALE frames: each step against
values computed by hand here, and the whole against Pillow itself."""
import numpy as np
import pytest
from PIL import Image

from env_gym_chainer import FramePreprocessor, GymEnvironment
from kernels.imresize import (PRECISION_BITS, bytescale, imresize,
                              pillow_bilinear, pillow_weights)
from models import protocol


@pytest.fixture(scope='module')
def frames():
    """Raw RGB screens of Breakout and Space Invaders in random play."""
    out = []
    for env_id in ('BreakoutNoFrameskip-v4', 'SpaceInvadersNoFrameskip-v4'):
        env = GymEnvironment(env_id, seed=1, noop_max=0)
        env.reset()
        rng = np.random.RandomState(1)
        for t in range(60):
            env.step(rng.randint(env.n_actions))
            if t % 20 == 19:
                out.append(env.screen.copy())
        env.close()
    return out


def test_bytescale_stretches_by_the_frames_own_extremes(frames):
    gray = frames[0][35:195].astype(np.uint16).sum(axis=2) / 3.0
    low, high = gray.min(), gray.max()
    assert 0 < high - low < 255        # a real stretch, not the identity
    scaled = bytescale(gray)
    for (r, c) in [(0, 0), (5, 17), (80, 80), (150, 3), (159, 159)]:
        by_hand = int((gray[r, c] - low) * 255 / (high - low) + 0.5)
        assert scaled[r, c] == by_hand
    assert scaled.min() == 0 and scaled.max() == 255
    # A flat frame divides by 1: every pixel at 0.
    assert (bytescale(np.full((4, 4), 7.0)) == 0).all()


def test_pillow_weights_are_the_antialiased_triangle():
    w = pillow_weights(160, 80)
    unit = 1 << PRECISION_BITS
    # Inside: the triangle stretched by 2 over 4 taps, 1/8 3/8 3/8 1/8.
    np.testing.assert_array_equal(
        w[5, 9:13], np.floor(np.array([1, 3, 3, 1]) / 8 * unit + 0.5))
    assert w[5, :9].sum() == w[5, 13:].sum() == 0
    # At the edge the taps are clipped and the rest renormalised.
    np.testing.assert_array_equal(
        w[0, :3], np.floor(np.array([3, 3, 1]) / 7 * unit + 0.5))
    assert w[0, 3:].sum() == 0


def test_one_pixel_by_hand_on_a_real_frame(frames):
    """Row 20, column 30 of the 80x80 frame: the horizontal pass of the
    four rows it reads, each rounded to 8 bits, then the vertical one."""
    image = bytescale(frames[1][35:195].astype(np.uint16).sum(axis=2) / 3)
    taps = np.array([1, 3, 3, 1]) / 8
    unit = 1 << PRECISION_BITS
    k = np.floor(taps * unit + 0.5).astype(np.int64)

    def rounded(total):
        return min(255, max(0, (int(total) + (unit >> 1)) >> PRECISION_BITS))
    across = [rounded(k @ image[row, 59:63].astype(np.int64))
              for row in range(39, 43)]
    by_hand = rounded(k @ np.array(across, np.int64))
    assert pillow_bilinear(image, (80, 80))[20, 30] == by_hand


def test_the_whole_equals_pillow_on_real_frames(frames):
    for rgb in frames:
        gray = rgb[35:195].astype(np.uint16).sum(axis=2) / 3.0
        byte = bytescale(gray)
        for size in [(80, 80), (84, 84), (42, 100)]:
            want = np.asarray(Image.fromarray(byte).resize(
                size[::-1], Image.BILINEAR))
            np.testing.assert_array_equal(pillow_bilinear(byte, size), want)
        np.testing.assert_array_equal(
            imresize(gray, (80, 80)),
            np.asarray(Image.fromarray(byte).resize((80, 80),
                                                    Image.BILINEAR)))


def test_the_greydanus_protocol_makes_these_frames(frames):
    played = protocol.PRESETS['greydanus']
    pre = protocol.preprocessor(played)
    assert isinstance(pre, FramePreprocessor)
    for rgb in frames:
        gray = rgb[35:195].mean(axis=2)         # as visualize_atari does
        np.testing.assert_array_equal(pre(rgb), imresize(gray, (80, 80)))
    # ... and the steps a reader checks against the source say so.
    steps = protocol.steps(played)
    assert steps[0].startswith('each step repeats the action for 2..4')
    assert 'the last screen alone' in steps[1]
    assert any('byte-scale' in s for s in steps)
    assert any('no FIRE' in s for s in steps)
    # The notebook's cv2 input is another protocol: other frames (not
    # stretched: Breakout's brightest pixels stay far below 255).
    cv2_like = protocol.preprocessor(protocol.PRESETS['xaitk-cv2'])
    assert pre(frames[0]).max() == 255 > cv2_like(frames[0]).max() + 50
    assert (cv2_like(frames[0]) != pre(frames[0])).mean() > 0.2
