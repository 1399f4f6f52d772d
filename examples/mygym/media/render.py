"""The one way every tool draws a saliency map: the demo's videos, the
preview, the app's videos and the report's example frames.

Convention (the original's): the actor's map goes in the green channel and
the critic's in the red one; the other two channels carry the frame's
luminance. With ``background='colour'`` the map is added instead to that
channel of the colour frame (clipped). A map is divided by a peak (its own
maximum with ``scale='frame'``, the maximum over the episode or frame range
with ``scale='episode'``), multiplied by 255 and clipped to [0, 255]:
bright values saturate, never wrap around.

The frame is the game's (210x160, magnified by an integer factor, pixels
kept sharp); the ``(H, W)`` maps are resampled bilinearly onto the frame's
grid and magnified with it. A video frame carries, in a band under the
game picture (:func:`caption`), which map it shows and the agent step.
"""
import os

import numpy as np

from media import viewer
from media.composite import composite_frame
from common.outputs import OutputError, save_npz
from kernels.colour import luma8
from kernels.resample import bilinear_taps
from media.video import Mp4Writer

CRITIC_CHANNEL = 0  # red
ACTOR_CHANNEL = 1   # green
BACKGROUNDS = ('luma', 'colour')
# Height of the caption band at magnification 1 (even: H.264 wants even
# sides).
CAPTION_ROWS = 12
CAPTION_BACKGROUND = 24
CAPTION_TEXT = (230, 230, 230)


def to_unit(saliency_map, peak):
    """``saliency_map / peak`` clipped to [0, 1]; all zeros if peak <= 0."""
    if not peak > 0:
        return np.zeros_like(saliency_map, dtype=np.float32)
    return np.clip(saliency_map / peak, 0.0, 1.0).astype(np.float32)


def check_background(background):
    if background not in BACKGROUNDS:
        raise ValueError('background must be luma or colour, got %r'
                         % (background,))


def background_of(step_or_rgb, background):
    """The picture a map is drawn over: the luminance
    (:func:`kernels.colour.luma8` of an RGB frame, a demo step's own) or
    the colours."""
    check_background(background)
    if isinstance(step_or_rgb, np.ndarray):
        return luma8(step_or_rgb) if background == 'luma' else step_or_rgb
    return step_or_rgb.luma if background == 'luma' else step_or_rgb.rgb


def compose(background, actor, critic, actor_peak, critic_peak, magnify=2,
            cache=None):
    """The actor and critic pictures of one step.

    Both maps are resampled bilinearly onto the game frame's ``(h, w)``
    grid in one product, then magnified with the frame (sharp pixels), so
    each picture is assembled in a few passes without temporaries of its
    full size.

    Args:
        background: the game frame: its ``(h, w)`` uint8 luminance (the
            map replaces its channel, luminance in the others), or its
            ``(h, w, 3)`` uint8 colours (the map is added to its channel).
        actor, critic: ``(H, W)`` raw maps; divided by their peaks.
        magnify (int): integer magnification of the frame (sharp pixels).
        cache (dict or None): keeps the resampling matrices.

    Returns:
        ``(actor_picture, critic_picture)``, each ``(h*m, w*m, 3)`` uint8.
    """
    height, width = background.shape[:2]
    units = np.stack([to_unit(actor, actor_peak), to_unit(critic,
                                                          critic_peak)])
    key = ('two-point', units.shape[1:], (height, width))
    taps = None if cache is None else cache.get(key)
    if taps is None:
        taps = (bilinear_taps(units.shape[1], height),
                bilinear_taps(units.shape[2], width))
        if cache is not None:
            cache[key] = taps
    (r0, r1, rw), (c0, c1, cw) = taps
    # Bilinear weights have two taps per output pixel: gathers instead of
    # dense products.
    maps = units[:, r0] * (1 - rw)[:, None] + units[:, r1] * rw[:, None]
    maps = maps[:, :, c0] * (1 - cw) + maps[:, :, c1] * cw   # (2, h, w)
    np.clip(maps, 0.0, 1.0, out=maps)
    maps *= 255
    levels = np.rint(maps).astype(np.uint8)
    pictures = []
    for channel, level in ((ACTOR_CHANNEL, levels[0]),
                           (CRITIC_CHANNEL, levels[1])):
        small = np.empty((height, width, 3), np.uint8)
        if background.ndim == 2:
            for c in range(3):
                small[..., c] = level if c == channel else background
        else:
            small[...] = background
            small[..., channel] = np.minimum(
                background[..., channel].astype(np.int16) + level,
                255).astype(np.uint8)
        if magnify != 1:
            small = np.repeat(np.repeat(small, magnify, axis=0), magnify,
                              axis=1)
        pictures.append(small)
    return pictures[0], pictures[1]


def _caption_font(rows):
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=max(8, rows - 2))
    except TypeError:       # Pillow without FreeType: its bitmap font
        return ImageFont.load_default()


def caption(picture, left, right='', magnify=1):
    """``picture`` with a band under it saying ``left`` (which map: e.g.
    ``actor · guided``) and ``right`` (e.g. ``step 120``), so the game
    picture itself is untouched. The band is ``CAPTION_ROWS * magnify``
    rows high, the picture's width."""
    from PIL import Image, ImageDraw
    rows = CAPTION_ROWS * magnify
    width = picture.shape[1]
    band = Image.new('RGB', (width, rows), (CAPTION_BACKGROUND,) * 3)
    draw = ImageDraw.Draw(band)
    font = _caption_font(rows)
    top = max(0, (rows - font.getbbox('Ag')[3]) // 2)
    draw.text((2 * magnify, top), left, fill=CAPTION_TEXT, font=font)
    if right:
        right_width = draw.textlength(right, font=font)
        draw.text((width - right_width - 2 * magnify, top), right,
                  fill=CAPTION_TEXT, font=font)
    return np.concatenate([picture, np.asarray(band)], axis=0)


def captioned_pair(background, actor, critic, actor_peak, critic_peak,
                   method, step, magnify=2, cache=None):
    """:func:`compose`, each picture with its caption (map, method and
    step): the pictures every video and still of the suite shows."""
    pictures = compose(background, actor, critic, actor_peak, critic_peak,
                       magnify, cache)
    return tuple(caption(picture, '{} · {}'.format(name, method),
                         'step {}'.format(step), magnify)
                 for name, picture in zip(('actor', 'critic'), pictures))


class SaliencyRecorder:
    """Receives each demo step and writes actor and critic videos.

    Per evaluation episode ``k`` it writes ``episode-<k>-actor.mp4`` and
    ``episode-<k>-critic.mp4`` (one video frame per agent step) and, with
    ``save_maps``, ``episode-<k>-maps.npz`` holding ``actor`` and ``critic``
    ``(T, H, W)`` float32 raw maps, ``actions`` ``(T,)``, ``action_probs``
    ``(T, n_actions)`` and ``values`` ``(T,)`` (and ``actor_signed``,
    ``critic_signed`` from methods with signed maps). With ``composite``,
    one ``episode-<k>-composite.mp4`` (:mod:`composite`: both maps side by
    side over strips of the action probabilities and the value estimate)
    takes the place of the two streams. Only what the episode's end needs
    is kept in memory: the values alone with ``scale='frame'`` and no
    ``save_maps``. The two streams are drawn at the game's size and
    magnified by ffmpeg (:class:`video.Mp4Writer`), in its own process.

    Each step comes as an object with ``luma`` (the game frame's
    ``(h, w)`` uint8 luminance) and ``result`` (a ``SaliencyResult`` whose
    ``action`` is set), as :mod:`demo` passes it.

    Args:
        video_dir (str): output folder (created).
        scale (str): ``'frame'`` or ``'episode'`` normalisation.
        fps (float): video frame rate (15 = real time at frame skip 4).
        magnify (int): integer magnification of the raw frame.
        live (bool): also show both streams in live windows.
        save_maps (bool): write the ``.npz`` per episode.
        composite (bool): one composite stream instead of two.
        action_names (list or None): labels of the actions (composite).
        method (str): the saliency method's name, in each frame's caption.
        background (str): ``'luma'`` (the original's) or ``'colour'``.
    """

    def __init__(self, video_dir, scale='frame', fps=15, magnify=2,
                 live=False, save_maps=False, composite=False,
                 action_names=None, method='', background='luma'):
        if scale not in ('frame', 'episode'):
            raise ValueError('scale must be frame or episode, got %r' % scale)
        check_background(background)
        self.method = method
        self.background = background
        os.makedirs(video_dir, exist_ok=True)
        self.video_dir = video_dir
        self.scale = scale
        self.fps = fps
        self.magnify = magnify
        self.save_maps = save_maps
        self.composite = composite
        self.action_names = action_names
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
        streams = ('composite',) if self.composite else ('actor', 'critic')
        # The two streams go to ffmpeg at the game's size; it magnifies.
        magnify = 1 if self.composite else self.magnify
        self._writers = {stream: Mp4Writer(self._path(stream), self.fps,
                                           magnify)
                         for stream in streams}
        self._frames = []   # (luma, actor, critic, step): 'episode' only
        self._maps = []     # (actor, critic, action, probs, value, signed)
        self._values = []   # the value of every step (composite strip)
        self._peaks = [0.0, 0.0]

    def observe(self, step):
        """Record one demo step (see the class)."""
        result = step.result
        self._peaks = [max(self._peaks[0], float(result.actor.max())),
                       max(self._peaks[1], float(result.critic.max()))]
        self._values.append(result.value)
        # What the composite strips show of this step.
        shown = (result.action_probs, result.action, len(self._values))
        picture = background_of(step, self.background)
        if self.scale == 'episode':
            self._frames.append((picture, result.actor, result.critic,
                                 shown))
        if self.save_maps:
            self._maps.append((result.actor, result.critic, result.action,
                               result.action_probs, result.value,
                               result.signed))
        if self.scale == 'frame':
            self._emit(picture, result.actor, result.critic,
                       float(result.actor.max()), float(result.critic.max()),
                       shown)
        elif self._windows is not None:
            # Live view cannot wait for the episode's end: peak so far.
            self._show(*self._compose(picture, result.actor, result.critic,
                                      *self._peaks,
                                      step=len(self._values) - 1))

    def _compose(self, picture, actor, critic, actor_peak, critic_peak,
                 magnify=None, step=0):
        return captioned_pair(picture, actor, critic, actor_peak,
                              critic_peak, self.method, step,
                              self.magnify if magnify is None else magnify,
                              self._resizers)

    def _show(self, actor_frame, critic_frame):
        if self._windows is not None:
            self._windows[0].show(actor_frame)
            self._windows[1].show(critic_frame)

    def _emit(self, picture, actor, critic, actor_peak, critic_peak, shown):
        probs, action, n_values = shown
        step = n_values - 1
        if not self.composite:
            small = self._compose(picture, actor, critic, actor_peak,
                                  critic_peak, magnify=1, step=step)
            self._writers['actor'].append(small[0])
            self._writers['critic'].append(small[1])
            if self._windows is not None:
                self._show(*self._compose(picture, actor, critic, actor_peak,
                                          critic_peak, step=step))
            return
        actor_frame, critic_frame = self._compose(picture, actor, critic,
                                                  actor_peak, critic_peak,
                                                  step=step)
        self._writers['composite'].append(composite_frame(
            actor_frame, critic_frame, probs, action,
            self._values[:n_values], self.action_names, self.magnify))
        self._show(actor_frame, critic_frame)

    def _finish_episode(self):
        """Close this episode's files; list those complete. Raises the
        first OutputError after trying every file."""
        first = next(iter(self._writers.values()))
        if not first.frames_written and not self._frames:
            return False
        errors = []
        try:
            for picture, actor, critic, shown in self._frames:
                self._emit(picture, actor, critic, *self._peaks, shown)
        except OutputError as e:
            errors.append(e)
        for stream in self._writers:
            try:
                self._writers[stream].close()
            except OutputError as e:
                errors.append(e)
            else:
                if self._writers[stream].frames_written:
                    self._list(self._writers[stream].path)
        if self.save_maps and self._maps:
            path = self._path('maps', 'npz')
            columns = list(zip(*self._maps))
            signed = {}
            if all(s is not None for s in columns[5]):
                signed = {name + '_signed': np.stack([s[name]
                                                      for s in columns[5]])
                          for name in columns[5][0]}
            try:
                save_npz(path, actor=np.stack(columns[0]),
                         critic=np.stack(columns[1]),
                         actions=np.array(columns[2], dtype=np.int64),
                         action_probs=np.stack(columns[3]),
                         values=np.array(columns[4], dtype=np.float32),
                         **signed)
            except OutputError as e:
                errors.append(e)
            else:
                self._list(path)
        if errors:
            raise errors[0]
        return True

    def _list(self, path):
        # A finish cut short by Ctrl-C is finished again by close(): each
        # complete file is listed once.
        if path not in self.files:
            self.files.append(path)

    def end_episode(self):
        """Close this episode's files and open the next episode's."""
        if self._finish_episode():
            self.episode += 1
        self._start_episode()

    def close(self):
        """Finish the files of the current episode (also on Ctrl-C)."""
        try:
            self._finish_episode()
        finally:
            self._frames, self._maps, self._values = [], [], []
            for writer in self._writers.values():
                try:
                    writer.close()
                except OutputError:
                    pass    # already reported by _finish_episode
            if self._windows is not None:
                for window in self._windows:
                    window.close()
