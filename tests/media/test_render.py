"""Overlay composition and the actor/critic video streams."""
import os

import numpy as np
import pytest

from evaluation.episodes import DemoStep
from media.render import (ACTOR_CHANNEL, CAPTION_ROWS, CRITIC_CHANNEL,
                          SaliencyRecorder, caption, captioned_pair, compose,
                          to_unit)
from media.video import read_mp4


class FakePolicy:
    class all_prob:
        array = np.array([[0.25, 0.75]], dtype=np.float32)


class FakeResult:
    def __init__(self, actor, critic, value=0.5, action=1):
        self.actor, self.critic, self.value = actor, critic, value
        self.action = action
        self.signed = None
        self.policy = FakePolicy
        self.action_probs = FakePolicy.all_prob.array[0]


def _step(luma, actor, critic, **kwargs):
    return DemoStep(None, None, luma, FakeResult(actor, critic, **kwargs),
                    None)


def test_compose_puts_each_map_in_its_channel_and_clips():
    luma = np.array([[10, 20], [30, 40]], dtype=np.uint8)
    unit = np.array([[0.0, 0.5], [1.0, 7.0]])          # 7.0 must saturate
    # Same-size maps resample to themselves; peak 1 leaves them as given.
    actor, critic = compose(luma, unit, unit[::-1], 1.0, 1.0, magnify=1)
    np.testing.assert_array_equal(critic[:, :, 0], [[255, 255], [0, 128]])
    np.testing.assert_array_equal(critic[:, :, 1], luma)
    np.testing.assert_array_equal(critic[:, :, 2], luma)
    np.testing.assert_array_equal(actor[:, :, 1], [[0, 128], [255, 255]])
    np.testing.assert_array_equal(actor[:, :, 0], luma)
    np.testing.assert_array_equal(actor[:, :, 2], luma)
    big, _ = compose(luma, unit, unit, 1.0, 1.0, magnify=3)
    np.testing.assert_array_equal(big, np.repeat(np.repeat(actor, 3, 0), 3, 1))


def test_to_unit_never_wraps():
    m = np.array([0.0, 1.0, 2.0, 3.0], dtype=np.float32)
    np.testing.assert_allclose(to_unit(m, 2.0), [0, 0.5, 1, 1])
    np.testing.assert_allclose(to_unit(m, 0.0), [0, 0, 0, 0])


def _square(corner, size=84):
    m = np.zeros((size, size), dtype=np.float32)
    if corner == 'top-left':
        m[4:40, 4:40] = 2.0
    else:
        m[44:80, 44:80] = 2.0
    return m


def _record(tmp_path, scale, peaks=(1.0, 1.0), steps=3, gray=100):
    luma = np.full((210, 160), gray, dtype=np.uint8)
    recorder = SaliencyRecorder(str(tmp_path), scale=scale, magnify=2,
                                save_maps=True)
    for t in range(steps):
        peak = peaks[t % len(peaks)]
        recorder.observe(_step(luma, _square('top-left') * peak,
                               _square('bottom-right') * peak))
    recorder.end_episode()
    recorder.close()
    return recorder


def test_videos_have_one_frame_per_step_and_the_map_in_its_channel(tmp_path):
    recorder = _record(tmp_path, 'frame', steps=7)
    assert [os.path.basename(f) for f in recorder.files] == [
        'episode-000-actor.mp4', 'episode-000-critic.mp4',
        'episode-000-maps.npz']
    actor = read_mp4(recorder.files[0]).astype(int)
    critic = read_mp4(recorder.files[1]).astype(int)
    # The game picture, then the caption band (12 rows, magnified).
    assert actor.shape == critic.shape == (7, 444, 320, 3)
    actor, critic = actor[:, :420], critic[:, :420]
    tol = 8  # H.264 / yuv420p rounding; chroma is blurred at edges

    def near(channel, value):
        error = np.abs(channel - value)
        return error.mean() < 3 and np.percentile(error, 95) <= tol
    # Critic: a bright red square bottom-right; green and blue = luma.
    inside = critic[:, 300:360, 200:280]     # map 44..80 of 84 -> rows/cols
    outside = critic[:, 40:120, 40:120]
    assert near(critic[..., 1], 100) and near(critic[..., 2], 100)
    assert inside[..., 0].min() >= 255 - tol
    assert outside[..., 0].max() <= tol
    # Actor: green square top-left; red and blue = luma.
    assert near(actor[..., 0], 100) and near(actor[..., 2], 100)
    assert actor[:, 40:180, 20:140, 1].min() >= 255 - tol
    assert actor[:, 300:360, 200:280, 1].max() <= tol


def test_episode_scale_keeps_intensity_comparable(tmp_path):
    episode = _record(tmp_path / 'e', 'episode', peaks=(1.0, 0.5), steps=2)
    frame = _record(tmp_path / 'f', 'frame', peaks=(1.0, 0.5), steps=2)
    ep = read_mp4(episode.files[1]).astype(int)[:, 300:360, 200:280, 0]
    fr = read_mp4(frame.files[1]).astype(int)[:, 300:360, 200:280, 0]
    assert ep[0].mean() == pytest.approx(255, abs=8)
    assert ep[1].mean() == pytest.approx(128, abs=8)   # half the peak
    assert fr[1].mean() == pytest.approx(255, abs=8)   # own maximum


def test_maps_file_holds_raw_maps_and_policy(tmp_path):
    recorder = _record(tmp_path, 'frame', steps=4)
    data = np.load(recorder.files[2])
    assert data['actor'].shape == data['critic'].shape == (4, 84, 84)
    assert data['actor'].max() == 2.0                 # raw, not normalised
    np.testing.assert_array_equal(data['actions'], [1, 1, 1, 1])
    np.testing.assert_allclose(data['action_probs'], [[0.25, 0.75]] * 4)
    np.testing.assert_allclose(data['values'], [0.5] * 4)


def test_close_mid_episode_leaves_playable_videos(tmp_path):
    luma = np.zeros((210, 160), dtype=np.uint8)
    recorder = SaliencyRecorder(str(tmp_path), scale='episode')
    for _ in range(3):
        recorder.observe(_step(luma, _square('top-left'),
                               _square('top-left'), action=0))
    recorder.close()                                  # as on Ctrl-C
    assert len(read_mp4(recorder.files[0])) == 3
    assert len(read_mp4(recorder.files[1])) == 3


def test_frame_scale_without_maps_keeps_nothing_per_step(tmp_path):
    luma = np.zeros((210, 160), dtype=np.uint8)
    recorder = SaliencyRecorder(str(tmp_path), scale='frame')
    for _ in range(5):
        recorder.observe(_step(luma, _square('top-left'),
                               _square('top-left')))
    assert recorder._frames == [] and recorder._maps == []
    recorder.close()
    assert len(read_mp4(recorder.files[0])) == 5


def test_composite_stream_has_both_maps_and_the_strips(tmp_path):
    luma = np.full((210, 160), 100, dtype=np.uint8)
    recorder = SaliencyRecorder(str(tmp_path), scale='frame', magnify=2,
                                composite=True, action_names=['NOOP', 'UP'])
    values = [0.1, 0.4, -0.3, 0.2, 0.9]
    for value in values:
        recorder.observe(_step(luma, _square('top-left'),
                               _square('bottom-right'), value=value))
    recorder.close()
    assert [os.path.basename(f) for f in recorder.files] == [
        'episode-000-composite.mp4']
    video = read_mp4(recorder.files[0]).astype(int)
    # Panels 320x420 with an 8-pixel gap, a 96-pixel strip below.
    assert video.shape == (5, 540, 648, 3)
    actor, critic = video[:, :420, :320], video[:, :420, 328:]
    assert actor[:, 40:180, 20:140, 1].min() >= 247        # green square
    assert critic[:, 300:360, 200:280, 0].min() >= 247     # red square
    assert critic[:, 40:120, 40:120, 0].max() <= 8
    strip = video[:, 444:]
    # Action 1 (probability 0.75, taken) is drawn in white and longer than
    # action 0's grey bar.
    first, second = strip[:, 2:44, 100:300], strip[:, 50:94, 100:300]
    assert (second > 240).all(axis=-1).sum() > 2 * (first > 240).all(
        axis=-1).sum()
    assert (first[..., 0] > 90).sum() > 0
    # The value line is red and reaches the right edge in the last frame.
    line = strip[-1, 14:, 328:]
    red = (line[..., 0] > 150) & (line[..., 1] < 140)
    assert red[:, -6:].any() and red.sum() > 20


def test_composite_value_strip_follows_the_values():
    from media.composite import value_strip
    rising = value_strip((300, 96), list(np.linspace(-1, 1, 150)))
    red = (rising[..., 0] > 150) & (rising[..., 1] < 140)
    rows = [np.nonzero(red[:, x])[0].mean() for x in (5, 150, 295)]
    assert rows[0] > rows[1] > rows[2]        # up the strip as V rises


def test_colour_background_adds_the_map_to_its_channel_and_clips():
    rgb = np.full((2, 2, 3), 200, dtype=np.uint8)
    rgb[1, 1] = (10, 20, 30)
    unit = np.array([[1.0, 0.0], [0.0, 0.5]])
    actor, critic = compose(rgb, unit, unit, 1.0, 1.0, magnify=1)
    assert critic[0, 0, 0] == 255                   # 200 + 255, clipped
    assert critic[1, 1, 0] == 10 + 128
    assert actor[0, 0, 1] == 255 and actor[1, 1, 1] == 20 + 128
    # The other channels keep the frame's colours.
    np.testing.assert_array_equal(critic[..., 1:], rgb[..., 1:])
    np.testing.assert_array_equal(actor[..., [0, 2]], rgb[..., [0, 2]])


def test_caption_is_a_band_under_the_untouched_picture():
    picture = np.full((20, 160, 3), 77, dtype=np.uint8)
    one = caption(picture, 'actor · guided', 'step 7')
    two = caption(picture, 'actor · guided', 'step 8')
    assert one.shape == (20 + CAPTION_ROWS, 160, 3)
    np.testing.assert_array_equal(one[:20], picture)
    band = one[20:]
    assert (band > 150).any()                      # text is drawn
    # The step number sits at the right; the map's name at the left.
    assert not np.array_equal(one[20:, 100:], two[20:, 100:])
    np.testing.assert_array_equal(one[20:, :60], two[20:, :60])
    critic = caption(picture, 'critic · guided', 'step 7')
    assert not np.array_equal(one[20:, :60], critic[20:, :60])
    big = caption(np.repeat(np.repeat(picture, 2, 0), 2, 1), 'x', 'y', 2)
    assert big.shape == (40 + 2 * CAPTION_ROWS, 320, 3)


def test_captioned_pair_keeps_the_composed_pictures():
    rng = np.random.RandomState(1)
    luma = rng.randint(0, 256, (210, 160)).astype(np.uint8)
    actor, critic = rng.rand(2, 84, 84).astype(np.float32)
    plain = compose(luma, actor, critic, 1.0, 1.0, magnify=2)
    captioned = captioned_pair(luma, actor, critic, 1.0, 1.0, 'guided', 3,
                               magnify=2)
    for p, c in zip(plain, captioned):
        np.testing.assert_array_equal(c[:420], p)
        assert c.shape == (420 + 2 * CAPTION_ROWS, 320, 3)


def test_compose_equals_the_dense_bilinear_resampling():
    from media.render import compose
    from kernels.resample import bilinear_matrix
    rng = np.random.RandomState(0)
    luma = rng.randint(0, 256, (210, 160)).astype(np.uint8)
    actor, critic = rng.rand(2, 84, 84).astype(np.float32)
    a_frame, c_frame = compose(luma, actor, critic, 0.8, 1.0, magnify=3)
    rows, cols = bilinear_matrix(84, 210), bilinear_matrix(84, 160)
    for frame, raw, peak, channel in ((a_frame, actor, 0.8, ACTOR_CHANNEL),
                                      (c_frame, critic, 1.0,
                                       CRITIC_CHANNEL)):
        assert frame.shape == (630, 480, 3)
        want = rows @ np.clip(raw / peak, 0, 1) @ cols.T * 255
        # Every 3x3 block is one game pixel.
        np.testing.assert_allclose(frame[::3, ::3, channel], want, atol=0.51)
        np.testing.assert_array_equal(frame[1::3, 2::3, channel],
                                      frame[::3, ::3, channel])
        others = [c for c in range(3) if c != channel]
        np.testing.assert_array_equal(frame[::3, ::3, others[0]], luma)
        np.testing.assert_array_equal(frame[2::3, 1::3, others[1]], luma)


def test_a_finish_cut_short_by_ctrl_c_lists_each_file_once(
        tmp_path, monkeypatch):
    import media.render as render
    real, calls = render.save_npz, []

    def interrupted_once(path, **arrays):
        calls.append(path)
        if len(calls) == 1:
            raise KeyboardInterrupt
        real(path, **arrays)
    monkeypatch.setattr(render, 'save_npz', interrupted_once)
    luma = np.full((210, 160), 100, dtype=np.uint8)
    recorder = SaliencyRecorder(str(tmp_path), magnify=1, save_maps=True)
    for _ in range(3):
        recorder.observe(_step(luma, _square('top-left'),
                               _square('bottom-right')))
    with pytest.raises(KeyboardInterrupt):
        recorder.end_episode()
    recorder.close()                  # as the demo's clean-up does
    names = [os.path.basename(f) for f in recorder.files]
    assert names == ['episode-000-actor.mp4', 'episode-000-critic.mp4',
                     'episode-000-maps.npz']
    assert read_mp4(tmp_path / 'episode-000-actor.mp4').shape[0] == 3
