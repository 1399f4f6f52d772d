"""The composite frame: both maps side by side over two strips."""
import numpy as np

from media.composite import (BAR, GAP, STRIP, TAKEN, VALUE, composite_frame,
                             probability_strip, value_strip)


def test_composite_places_both_streams_and_the_strips():
    actor = np.full((42, 32, 3), 10, np.uint8)
    critic = np.full((42, 32, 3), 200, np.uint8)
    frame = composite_frame(actor, critic, np.array([0.2, 0.8]), 1,
                            [0.0, 0.5, 1.0], names=['NOOP', 'FIRE'],
                            magnify=1)
    height, width = 42 + STRIP, 2 * 32 + GAP
    assert frame.shape == (height + height % 2, width + width % 2, 3)
    assert frame.dtype == np.uint8
    np.testing.assert_array_equal(frame[:42, :32], actor)
    np.testing.assert_array_equal(frame[:42, 32 + GAP:64 + GAP], critic)
    np.testing.assert_array_equal(frame[:42, 32:32 + GAP], 0)
    # Even sides (H.264 in yuv420p needs them); the strips are drawn.
    assert frame.shape[0] % 2 == 0 and frame.shape[1] % 2 == 0
    assert frame[42:42 + STRIP, :32].any()
    assert frame[42:42 + STRIP, 32 + GAP:64 + GAP].any()


def test_the_taken_action_is_white_and_bars_follow_the_probabilities():
    strip = probability_strip((200, STRIP), np.array([0.1, 0.9]), 1)
    assert strip.shape == (STRIP, 200, 3)
    white = (strip == TAKEN).all(axis=2)
    bar = (strip == BAR).all(axis=2)
    half = STRIP // 2
    # One row of bars per action: the taken one (the second) in white.
    assert white[half:].any() and not white[:half].any()
    assert bar[:half].any() and not bar[half:].any()
    # Each bar's length follows its probability.
    assert white[half:].sum(axis=1).max() > 3 * bar[:half].sum(axis=1).max()


def test_the_value_strip_draws_the_newest_value_where_it_lies():
    def newest_rows(values):
        strip = value_strip((60, STRIP), values)
        assert strip.shape == (STRIP, 60, 3)
        line = (strip[:, -2:] == VALUE).all(axis=2).any(axis=1)
        rows = np.nonzero(line)[0]
        return rows.min(), rows.max()
    # Image rows grow downwards; values are scaled to their own range.
    flat_top, flat_bottom = newest_rows([0.0, 0.0, 0.0])
    assert newest_rows([0.0, 0.0, 1.0])[0] < flat_top - 8
    assert newest_rows([0.0, 0.0, -1.0])[1] > flat_bottom + 8
