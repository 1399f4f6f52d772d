"""MP4 output that plays in an ordinary video player and in a browser.

Frames are ``(H, W, 3)`` uint8 RGB. Files are H.264 in yuv420p with the index
at the front (``+faststart``). Odd sizes are padded by one edge row/column,
because yuv420p needs even dimensions. A video is written under a temporary
name and renamed when it is closed, complete and playable; a failure removes
it and raises :class:`outputs.OutputError`. Ctrl-C waits for the frame in
hand (see :func:`outputs.signals_deferred`).
"""
import contextlib
import os

import imageio.v2 as imageio
import numpy as np

from common.outputs import (OutputError, describe, signals_deferred,
                            temporary_name)


class Mp4Writer:
    """Append RGB frames to an MP4 file; opened on the first frame.

    Call :meth:`close` (or use it as a context manager) to finish the file;
    an unclosed MP4 lacks its index and does not play.

    ``magnify`` (an integer) has ffmpeg enlarge every frame that many times
    with sharp pixels, in its own process: the agent's process hands over
    the small frame.
    """

    def __init__(self, path, fps=30, magnify=1):
        self.path = path
        self.fps = fps
        self.magnify = magnify
        self.frames_written = 0
        self._writer = None
        self._tmp = None

    def append(self, rgb):
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError('expected an (H, W, 3) uint8 frame, got shape '
                             '{} dtype {}'.format(rgb.shape, rgb.dtype))
        pad_h, pad_w = rgb.shape[0] % 2, rgb.shape[1] % 2
        if pad_h or pad_w:
            rgb = np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode='edge')
        with signals_deferred():
            try:
                if self._writer is None:
                    self._open()
                self._writer.append_data(rgb)
            except Exception as e:
                self._fail(e)
            self.frames_written += 1

    def _open(self):
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._tmp = temporary_name(self.path)
        # ultrafast and one thread: the encoder keeps up with a demo on two
        # cores without taking them from the agent (files ~1.4x veryfast's).
        params = ['-movflags', '+faststart', '-crf', '18', '-preset',
                  'ultrafast', '-threads', '1']
        if self.magnify != 1:
            params += ['-vf', 'scale=iw*{0}:ih*{0}:flags=neighbor'.format(
                self.magnify)]
        self._writer = imageio.get_writer(
            self._tmp, format='FFMPEG', mode='I', fps=self.fps,
            codec='libx264', pixelformat='yuv420p', macro_block_size=1,
            ffmpeg_log_level='error', output_params=params)

    def _fail(self, error):
        """Drop the partial file and raise one line."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                os.remove(self._tmp)
            self._tmp = None
        raise OutputError('cannot write {}: {}'.format(
            self.path, describe(error))) from error

    def close(self):
        """Finish the file and move it into place (nothing if no frame)."""
        if self._writer is None:
            return
        with signals_deferred():
            try:
                self._writer.close()
                self._writer = None
                os.replace(self._tmp, self.path)
                self._tmp = None
            except Exception as e:
                self._fail(e)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_mp4(path):
    """Read every frame of an MP4 as a ``(T, H, W, 3)`` uint8 array."""
    with imageio.get_reader(path, format='FFMPEG') as reader:
        return np.stack([frame for frame in reader])
