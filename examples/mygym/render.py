"""Saliency overlays and the demo's video streams.

Overlay (as the original): the critic video carries the critic map in the
red channel and the frame's luminance in green and blue; the actor video
carries the actor map in the green channel and the luminance in red and
blue. A map is divided by a peak (its own maximum with ``scale='frame'``,
the maximum over the episode with ``scale='episode'``), multiplied by 255
and clipped to [0, 255]: bright values saturate, never wrap around.

The luminance comes from the raw RGB game frame (210x160, magnified by an
integer factor, pixels kept sharp); the ``(H, W)`` maps are resampled onto
it bilinearly.
"""
import os

import numpy as np

import viewer
from env_gym_chainer import luminance
from video import Mp4Writer

CRITIC_CHANNEL = 0  # red
ACTOR_CHANNEL = 1   # green


def linear_resize_matrix(n_in, n_out):
    """Bilinear resampling weights ``(n_out, n_in)`` (pixel centres aligned).

    ``W_rows @ image @ W_cols.T`` resizes an image; every row sums to 1.
    """
    src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    src = np.clip(src, 0, n_in - 1)
    low = np.floor(src).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = (src - low).astype(np.float32)
    weights = np.zeros((n_out, n_in), dtype=np.float32)
    rows = np.arange(n_out)
    np.add.at(weights, (rows, low), 1 - frac)
    np.add.at(weights, (rows, high), frac)
    return weights


def to_unit(saliency_map, peak):
    """``saliency_map / peak`` clipped to [0, 1]; all zeros if peak <= 0."""
    if not peak > 0:
        return np.zeros_like(saliency_map, dtype=np.float32)
    return np.clip(saliency_map / peak, 0.0, 1.0).astype(np.float32)


def overlay(luma, unit_map, channel):
    """Compose an RGB frame: ``unit_map`` in ``channel``, luma elsewhere.

    Args:
        luma: ``(H, W)`` uint8 luminance.
        unit_map: ``(H, W)`` float in [0, 1] (clipped again here).
        channel (int): 0 red (critic) or 1 green (actor).

    Returns:
        ``(H, W, 3)`` uint8.
    """
    frame = np.repeat(luma[:, :, None], 3, axis=2)
    frame[:, :, channel] = np.rint(
        np.clip(unit_map, 0.0, 1.0) * 255).astype(np.uint8)
    return frame


class SaliencyRecorder:
    """Receives each demo step and writes actor and critic videos.

    Per evaluation episode ``k`` it writes ``episode-<k>-actor.mp4`` and
    ``episode-<k>-critic.mp4`` (one video frame per agent step) and, with
    ``save_maps``, ``episode-<k>-maps.npz`` holding ``actor`` and ``critic``
    ``(T, H, W)`` float32 raw maps, ``actions`` ``(T,)``, ``action_probs``
    ``(T, n_actions)`` and ``values`` ``(T,)``.

    Args:
        video_dir (str): output folder (created).
        frame_source (callable or None): returns the raw ``(h, w, 3)`` RGB
            frame of the current step; None: the newest observed frame.
        scale (str): ``'frame'`` or ``'episode'`` normalisation.
        fps (float): video frame rate (15 = real time at frame skip 4).
        magnify (int): integer magnification of the raw frame.
        live (bool): also show both streams in live windows.
        save_maps (bool): write the ``.npz`` per episode.
    """

    def __init__(self, video_dir, frame_source=None, scale='frame', fps=15,
                 magnify=2, live=False, save_maps=False):
        if scale not in ('frame', 'episode'):
            raise ValueError('scale must be frame or episode, got %r' % scale)
        os.makedirs(video_dir, exist_ok=True)
        self.video_dir = video_dir
        self.frame_source = frame_source
        self.scale = scale
        self.fps = fps
        self.magnify = magnify
        self.save_maps = save_maps
        self.files = []
        self.episode = 0
        # Side by side: the frame is 160 pixels wide before magnification.
        self._windows = ((viewer.LiveWindow('actor saliency', zoom=1,
                                            position=(0, 0)),
                          viewer.LiveWindow('critic saliency', zoom=1,
                                            position=(160 * magnify + 20, 0)))
                         if live else None)
        self._resizers = {}
        self._start_episode()

    def _path(self, stream, ext='mp4'):
        return os.path.join(self.video_dir, 'episode-{:03d}-{}.{}'.format(
            self.episode, stream, ext))

    def _start_episode(self):
        self._writers = {'actor': Mp4Writer(self._path('actor'), self.fps),
                         'critic': Mp4Writer(self._path('critic'), self.fps)}
        self._steps = []        # (luma, actor, critic, action, probs, value)
        self._peaks = [0.0, 0.0]

    def _resize(self, saliency_map, shape):
        key = (saliency_map.shape, shape)
        if key not in self._resizers:
            self._resizers[key] = (
                linear_resize_matrix(saliency_map.shape[0], shape[0]),
                linear_resize_matrix(saliency_map.shape[1], shape[1]))
        rows, cols = self._resizers[key]
        return rows @ saliency_map @ cols.T

    def observe(self, obs, result, action):
        """Record one step: observation, its SaliencyResult, the action."""
        rgb = self.frame_source() if self.frame_source else None
        if rgb is None:
            luma = np.asarray(obs)[-1].astype(np.uint8)
        else:
            luma = np.clip(np.rint(luminance(rgb)), 0, 255).astype(np.uint8)
        self._peaks = [max(self._peaks[0], float(result.actor.max())),
                       max(self._peaks[1], float(result.critic.max()))]
        keep_luma = luma if self.scale == 'episode' else None
        self._steps.append((keep_luma, result.actor, result.critic,
                            int(action), result.action_probs, result.value))
        if self.scale == 'frame':
            self._emit(luma, result.actor, result.critic,
                       float(result.actor.max()), float(result.critic.max()))
        elif self._windows is not None:
            # Live view cannot wait for the episode's end: peak so far.
            self._show(*self._compose(luma, result.actor, result.critic,
                                      *self._peaks))

    def _compose(self, luma, actor, critic, actor_peak, critic_peak):
        m = self.magnify
        big = np.repeat(np.repeat(luma, m, axis=0), m, axis=1)
        actor_unit = self._resize(to_unit(actor, actor_peak), big.shape)
        critic_unit = self._resize(to_unit(critic, critic_peak), big.shape)
        return (overlay(big, actor_unit, ACTOR_CHANNEL),
                overlay(big, critic_unit, CRITIC_CHANNEL))

    def _show(self, actor_frame, critic_frame):
        if self._windows is not None:
            self._windows[0].show(actor_frame)
            self._windows[1].show(critic_frame)

    def _emit(self, luma, actor, critic, actor_peak, critic_peak):
        actor_frame, critic_frame = self._compose(luma, actor, critic,
                                                  actor_peak, critic_peak)
        self._writers['actor'].append(actor_frame)
        self._writers['critic'].append(critic_frame)
        self._show(actor_frame, critic_frame)

    def _finish_episode(self):
        if not self._steps:
            return False
        if self.scale == 'episode':
            for luma, actor, critic, *_ in self._steps:
                self._emit(luma, actor, critic, *self._peaks)
        for stream in ('actor', 'critic'):
            self._writers[stream].close()
            self.files.append(self._writers[stream].path)
        if self.save_maps:
            path = self._path('maps', 'npz')
            columns = list(zip(*self._steps))
            np.savez_compressed(
                path, actor=np.stack(columns[1]),
                critic=np.stack(columns[2]),
                actions=np.array(columns[3], dtype=np.int64),
                action_probs=np.stack(columns[4]),
                values=np.array(columns[5], dtype=np.float32))
            self.files.append(path)
        return True

    def end_episode(self):
        """Close this episode's files and open the next episode's."""
        if self._finish_episode():
            self.episode += 1
        self._start_episode()

    def close(self):
        """Finish the files of the current episode (also on Ctrl-C)."""
        self._finish_episode()
        self._steps = []
        for writer in self._writers.values():
            writer.close()
        if self._windows is not None:
            for window in self._windows:
                window.close()


def red_overlay(rgb, unit_map):
    """Saliency in red over a real RGB frame, as the XAITK Atari example.

    Args:
        rgb: ``(h, w, 3)`` uint8 game frame.
        unit_map: ``(H, W)`` float in [0, 1]; resampled onto ``(h, w)``.

    Returns:
        ``(h, w, 3)`` uint8: red raised by up to 255, clipped (never wraps).
    """
    rows = linear_resize_matrix(unit_map.shape[0], rgb.shape[0])
    cols = linear_resize_matrix(unit_map.shape[1], rgb.shape[1])
    boost = rows @ np.clip(unit_map, 0.0, 1.0) @ cols.T * 255.0
    frame = np.array(rgb, dtype=np.uint8, copy=True)
    frame[:, :, 0] = np.clip(frame[:, :, 0] + np.rint(boost), 0, 255)
    return frame
