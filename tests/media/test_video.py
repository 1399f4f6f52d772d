import errno
import os

import imageio.v2 as imageio
import numpy as np
import pytest

from common.outputs import OutputError
from media.video import Mp4Writer, read_mp4


def test_mp4_round_trip_keeps_frame_count_and_colours(tmp_path):
    path = str(tmp_path / 'sub' / 'clip.mp4')
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    with Mp4Writer(path, fps=15) as writer:
        for colour in colours * 2:
            writer.append(np.full((33, 41, 3), colour, dtype=np.uint8))
    frames = read_mp4(path)
    assert frames.shape == (6, 34, 42, 3)     # odd sizes padded to even
    for frame, colour in zip(frames, colours * 2):
        np.testing.assert_allclose(frame[5:25, 5:35].mean(axis=(0, 1)),
                                   colour, atol=6)


def test_bad_frame_is_refused(tmp_path):
    writer = Mp4Writer(str(tmp_path / 'x.mp4'))
    try:
        writer.append(np.zeros((4, 4), dtype=np.uint8))
    except ValueError as e:
        assert '(H, W, 3) uint8' in str(e)
    else:
        raise AssertionError('expected ValueError')


def test_a_failing_writer_leaves_no_partial_file(tmp_path, monkeypatch):
    real = imageio.get_writer

    def failing(*args, **kwargs):
        writer = real(*args, **kwargs)
        frames = []

        def append(frame):
            frames.append(frame)
            if len(frames) == 3:
                raise OSError(errno.ENOSPC, 'No space left on device')
            return type(writer).append_data(writer, frame)
        writer.append_data = append
        return writer
    monkeypatch.setattr(imageio, 'get_writer', failing)
    writer = Mp4Writer(str(tmp_path / 'v.mp4'), fps=10)
    frame = np.zeros((8, 8, 3), np.uint8)
    writer.append(frame)
    writer.append(frame)
    with pytest.raises(OutputError, match='No space left on device'):
        writer.append(frame)
    writer.close()
    assert os.listdir(tmp_path) == []


def test_the_file_appears_only_when_closed(tmp_path):
    writer = Mp4Writer(str(tmp_path / 'v.mp4'), fps=10)
    writer.append(np.zeros((8, 8, 3), np.uint8))
    assert not (tmp_path / 'v.mp4').exists()
    writer.close()
    assert len(read_mp4(tmp_path / 'v.mp4')) == 1
    assert os.listdir(tmp_path) == ['v.mp4']
