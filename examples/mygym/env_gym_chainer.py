"""Atari games for ChainerRL: gymnasium + ale-py behind the old ChainerRL API.

:class:`GymEnvironment` plays any ALE id a user would type
(``Pong-v0``, ``PongNoFrameskip-v4``, ``ALE/Pong-v5``, ``Boxing-v0``, ...)
with the standard Atari preprocessing, whatever frame skip the id itself
names:

* each agent step repeats the action for ``frame_skip`` (4) emulator frames,
  sums the rewards, and keeps the pixel-wise maximum of the last two frames
  (Atari sprites flicker); an imported agent's protocol
  (:mod:`models.protocol`) may draw the skip per step and keep the last
  frame alone;
* optionally 1..``noop_max`` no-op frames after each reset (training);
* optionally FIRE at the start of every life, and a lost life ending a
  training episode (``fire_on_new_life``, ``episodic_life``);
* grayscale with the ITU-R BT.709 luminance weights (0.2126 R + 0.7152 G +
  0.0722 B; the original swapped the green and blue weights);
* area (box-filter) resampling to ``size x size`` pixels;
* the last ``frame_buffer_length`` frames stacked.

Observations are ``(frame_buffer_length, size, size)`` uint8 arrays, newest
frame last. ``reset() -> obs`` and ``step(a) -> (obs, r, done, info)`` follow
ChainerRL; ``info['needs_reset']`` is True when the episode was cut off
(truncated) rather than ended. The raw RGB frame the observation was made
from (``(210, 160, 3)`` uint8) is kept in :attr:`GymEnvironment.rgb_frame`
for rendering, and its BT.709 luminance (uint8) in
:attr:`GymEnvironment.luma_frame`.

gymnasium's ``AtariPreprocessing`` would do most of this, but it resizes with
OpenCV (not in this suite's stack) and drops the RGB frame the saliency
videos are drawn on. So the emulator is stepped through
``ale_py.ALEInterface`` directly: grabbing a screen only for the two frames
that are kept is about twice as fast as a gymnasium step per frame. Sticky
actions (``repeat_action_probability``) stay as the id defines them; the ALE
applies them itself.
"""
import collections
import warnings

import ale_py
import chainerrl_compat  # noqa: F401  (before chainerrl)
import chainerrl
import gymnasium
import numpy as np

from media import viewer
from kernels.imresize import PillowBilinear, bytescale
from kernels.resample import area_matrix, bilinear_matrix, resize
from media.video import Mp4Writer

gymnasium.register_envs(ale_py)
# The emulator's version banner would be the noise around every error line.
ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)

LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
# ITU-R BT.601, the weights of OpenCV's COLOR_RGB2GRAY (ChainerRL's Atari
# wrappers).
BT601_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
RESAMPLERS = {'area': area_matrix, 'bilinear': bilinear_matrix}
# scipy's imresize of a float frame (:mod:`kernels.imresize`): byte-scaled
# by the frame's extremes, then Pillow's antialiased bilinear filter.
IMRESIZE = 'imresize'
RESIZES = tuple(RESAMPLERS) + (IMRESIZE,)
# Gray of RGB: weights per channel ('mean': the exact integer sum over 3).
GRAY_WEIGHTS = {'luma': LUMA_WEIGHTS, 'bt601': BT601_WEIGHTS}
GRAYS = tuple(GRAY_WEIGHTS) + ('mean',)
# Stable-Baselines3's FireResetEnv (CleanRL uses it too): FIRE, then
# action 2, at every reset; after a lost life (EpisodicLifeEnv) a no-op
# step first.
FIRE_RESET = 'fire_reset'
# The FIRE rules a protocol names (GymEnvironment also takes True).
FIRE_RULES = ('auto', False, FIRE_RESET)
STACK_FILLS = ('copies', 'zeros')
LIFE_LOSSES = ('continue', 'new_stack')


class UnknownGameError(ValueError):
    """The environment id names no ALE (Atari) game."""


def _simple(name):
    return ''.join(ch for ch in name.lower() if ch.isalnum())


def ids_of_game(name):
    """The registered ALE ids whose game is ``name`` (any case, with or
    without ``ALE/``, a version or ``NoFrameskip``), the common ones first."""
    wanted = _simple(name.split('/')[-1].split('-')[0])
    for suffix in ('noframeskip', 'deterministic'):
        wanted = wanted.replace(suffix, '')
    found = []
    for env_id, spec in gymnasium.registry.items():
        game = spec.kwargs.get('game') if isinstance(spec.kwargs, dict) \
            else None
        entry = spec.entry_point if isinstance(spec.entry_point, str) else ''
        if entry.startswith('ale_py') and game and _simple(game) == wanted \
                and spec.kwargs.get('obs_type', 'rgb') == 'rgb':
            found.append(env_id)
    order = ('NoFrameskip-v4', '-v4', 'ALE/', '-v0')
    return sorted(found, key=lambda i: (next(
        (k for k, part in enumerate(order) if part in i), len(order)), i))


def check_atari_id(env_id):
    """Return the gymnasium spec of ``env_id`` or raise UnknownGameError
    (naming the ids registered for that game, when there are any)."""
    try:
        spec = gymnasium.spec(env_id)
    except gymnasium.error.Error:
        known = ids_of_game(env_id)
        if known:
            raise UnknownGameError(
                'unknown game id {!r}; the ids of that game are {}'.format(
                    env_id, ', '.join(known[:6])))
        raise UnknownGameError(
            'unknown game id {!r}: no ALE game of that name (e.g. '
            'PongNoFrameskip-v4, Breakout-v4, ALE/Boxing-v5)'.format(env_id))
    entry = spec.entry_point if isinstance(spec.entry_point, str) else ''
    if not entry.startswith('ale_py'):
        raise UnknownGameError(
            '{!r} is not an Atari (ALE) game; try e.g. PongNoFrameskip-v4, '
            'BreakoutNoFrameskip-v4 or ALE/Pong-v5'.format(env_id))
    return spec


def game_of(env_id):
    """The ALE game an id plays (``'pong'`` for ``Pong-v0``,
    ``PongNoFrameskip-v4`` and ``ALE/Pong-v5`` alike)."""
    return check_atari_id(env_id).kwargs.get('game', env_id)


def game_or_id(env_id):
    """:func:`game_of` ``env_id``, or the id itself when it names no ALE
    game (to compare the games of two ids that may be unknown)."""
    try:
        return game_of(env_id)
    except UnknownGameError:
        return env_id


def luminance(rgb):
    """BT.709 luminance of ``(..., 3)`` RGB values, as float32 ``(...)``."""
    return np.asarray(rgb, dtype=np.float32) @ LUMA_WEIGHTS


class FramePreprocessor:
    """Turn a raw ``(H, W, 3)`` uint8 RGB frame into ``(size, size)`` uint8.

    Args:
        size (int): output width and height.
        crop_rows (tuple or None): ``(first, stop)`` rows kept before
            resizing, or None for the whole screen.
        gray (str): ``'luma'`` (BT.709 luminance), ``'bt601'`` (BT.601
            weights) or ``'mean'`` (the plain mean of R, G and B).
        resample (str): ``'area'`` (box filter), ``'bilinear'`` (pixel
            centres aligned, edges held: OpenCV's ``INTER_LINEAR``) or
            ``'imresize'`` (scipy's ``imresize`` of the float gray frame:
            :func:`kernels.imresize.bytescale`, then Pillow's bilinear
            filter; the gray frame in float64 as NumPy's ``mean(2)``).
    """

    def __init__(self, size=84, crop_rows=None, gray='luma',
                 resample='area', resize_first=False):
        if gray not in GRAYS:
            raise ValueError('gray must be luma, bt601 or mean, got %r'
                             % gray)
        if resample not in RESIZES:
            raise ValueError('resample must be area, bilinear or imresize, '
                             'got %r' % resample)
        self.size = size
        self.crop_rows = crop_rows
        self.gray = gray
        self.resample = resample
        self.resize_first = resize_first
        self._matrices = {}
        self._pillow = PillowBilinear()
        # BT.709 luminance of the whole frame last preprocessed, when the
        # preprocessing computed it (gray 'luma', no crop), else None.
        self.last_luminance = None

    def __call__(self, rgb):
        self.last_luminance = None
        if self.crop_rows is not None:
            rgb = rgb[self.crop_rows[0]:self.crop_rows[1]]
        if self.resample == IMRESIZE:
            return self._imresize(rgb)
        if self.resize_first:
            return self._resize_then_gray(rgb)
        if self.gray == 'luma':
            gray = luminance(rgb)
            if self.crop_rows is None:
                self.last_luminance = gray
        elif self.gray == 'bt601':
            gray = np.asarray(rgb, dtype=np.float32) @ BT601_WEIGHTS
        else:
            # The exact integer sum over R, G, B divided by 3, as
            # ``mean(axis=2)`` computes it, without its slow reduction.
            gray = rgb[:, :, 0].astype(np.float32)
            gray += rgb[:, :, 1]
            gray += rgb[:, :, 2]
            gray /= np.float32(3)
        small = resize(gray, (self.size, self.size),
                       RESAMPLERS[self.resample], self._matrices)
        return np.clip(np.rint(small), 0, 255).astype(np.uint8)

    def _resize_then_gray(self, rgb):
        """CleanRL's order: each colour channel resized and rounded to 8
        bits (``cv2.resize`` of the RGB frame), then the gray of those."""
        small = np.stack([
            resize(rgb[:, :, k].astype(np.float32), (self.size, self.size),
                   RESAMPLERS[self.resample], self._matrices)
            for k in range(3)], axis=2)
        small = np.clip(np.rint(small), 0, 255)
        weights = GRAY_WEIGHTS.get(self.gray, np.full(3, 1 / 3, np.float32))
        return np.clip(np.rint(small @ weights), 0, 255).astype(np.uint8)

    def _imresize(self, rgb):
        """Greydanus' frames: the gray frame in float64, byte-scaled, then
        Pillow's bilinear filter (:mod:`kernels.imresize`)."""
        if self.gray == 'mean':
            # NumPy's mean(2) of uint8: the exact integer sum over 3.
            gray = rgb.astype(np.uint16).sum(axis=2) / 3.0
        else:
            gray = rgb.astype(np.float64) @ GRAY_WEIGHTS[self.gray].astype(
                np.float64)
        return self._pillow(bytescale(gray), (self.size, self.size))


def _is_monitored_episode(episode_id):
    # Same schedule as gym's Monitor: cubes below 1000, then every 1000th.
    if episode_id < 1000:
        return round(episode_id ** (1 / 3)) ** 3 == episode_id
    return episode_id % 1000 == 0


class GymEnvironment(chainerrl.env.Env):
    """An Atari game with frame skip, preprocessing and frame stacking.

    Args:
        env_id (str): an ALE id such as ``PongNoFrameskip-v4``.
        frame_buffer_length (int): number of stacked frames N.
        preprocessor (callable): RGB frame -> 2-D uint8 frame;
            default ``FramePreprocessor(84)``.
        frame_skip (int or tuple): emulator frames per agent step, or
            ``(low, high)``: a uniform draw in ``low..high`` per step (from
            the environment's seeded generator).
        max_pool (bool): the step's frame is the maximum of its last two
            screens (Atari sprites flicker); False: the last screen.
        noop_max (int): at most this many no-op frames after a reset
            (a uniform 1..noop_max); 0 disables them.
        seed (int or None): seed of the first reset (ALE and no-ops).
        reward_filter (callable or None): applied to each step's reward
            (training only: trimming, scaling, clipping).
        max_frames_per_episode (int or None): emulator frames after which an
            episode is truncated (``info['needs_reset']``); None keeps the
            id's own limit.
        render_game (bool): show the game in a live window.
        render_agent_input (bool): show the newest preprocessed frame (what
            the agent sees) in a live window (the original ``--render-b2w``).
        monitor_dir (str or None): write MP4s of episodes 0, 1, 8, 27, ...,
            1000, 2000, ... there.
        episodic_life (bool or 'auto'): a lost life ends the episode
            (``done``) while the game goes on at the next ``reset()``, as in
            the A3C/DQN training setups; 'auto': for games with lives and a
            FIRE action (Breakout), not for Pong.
        stack_fill (str): what fills the stack at a reset besides the
            first frame: ``'copies'`` of it (ChainerRL, gym's FrameStack)
            or ``'zeros'`` (Stable-Baselines3's VecFrameStack).
        life_loss (str): ``'continue'`` (a lost life changes nothing
            but the FIRE above) or ``'new_stack'`` (the stack restarts
            as at a reset, ``stack_fill``: libraries whose training
            wrapper ends an episode at a lost life play a whole game as
            one episode per life).
        fire_on_new_life (bool, 'auto' or 'fire_reset'): press FIRE for
            one agent step at the start of every life (Breakout waits for
            it); 'auto' as above; 'fire_reset': Stable-Baselines3's and
            CleanRL's wrappers (in games with a FIRE action, lives or not:
            after a lost life one no-op step, then FIRE for one step and
            action 2 for one step, at every reset and every new life).
    """

    def __init__(self, env_id, frame_buffer_length=4, preprocessor=None,
                 frame_skip=4, noop_max=30, seed=None, reward_filter=None,
                 max_frames_per_episode=None, render_game=False,
                 render_agent_input=False, monitor_dir=None,
                 episodic_life=False, fire_on_new_life=False,
                 max_pool=True, stack_fill='copies', life_loss='continue'):
        if frame_buffer_length < 1:
            raise ValueError('frame_buffer_length must be >= 1')
        if stack_fill not in STACK_FILLS:
            raise ValueError('stack_fill must be copies or zeros')
        if life_loss not in LIFE_LOSSES:
            raise ValueError('life_loss must be continue or new_stack')
        self.stack_fill = stack_fill
        self.life_loss = life_loss
        skips = frame_skip if isinstance(frame_skip, tuple) else (
            frame_skip, frame_skip)
        if not 1 <= skips[0] <= skips[1]:
            raise ValueError('frame_skip must be >= 1 (low <= high)')
        check_atari_id(env_id)
        kwargs = dict(frameskip=1, obs_type='rgb')
        if max_frames_per_episode is not None:
            kwargs['max_num_frames_per_episode'] = max_frames_per_episode
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            self._gym_env = gymnasium.make(env_id, **kwargs)
        self._atari = self._gym_env.unwrapped
        self._ale = self._atari.ale
        self._action_set = list(self._atari._action_set)
        self.frame_buffer_length = frame_buffer_length
        self.preprocessor = preprocessor or FramePreprocessor(84)
        self.frame_skip = frame_skip
        self._skips = skips
        # Agent steps per second of game time (the ALE runs at 60 frames/s).
        self.step_rate = 120 / (skips[0] + skips[1])
        self.max_pool = max_pool
        self.noop_max = noop_max
        self.reward_filter = reward_filter
        self._next_seed = seed
        self.episodic_life = episodic_life
        self.fire_on_new_life = fire_on_new_life
        self._lives = 0
        self._life_lost = False

        size = self.preprocessor.size
        self.action_space = gymnasium.spaces.Discrete(len(self._action_set))
        self.observation_space = gymnasium.spaces.Box(
            0, 255, (frame_buffer_length, size, size), np.uint8)
        self.action_meanings = self._atari.get_action_meanings()
        self._fire = (self.action_meanings.index('FIRE')
                      if 'FIRE' in self.action_meanings else None)

        self._screens = np.zeros((2, 210, 160, 3), dtype=np.uint8)
        self.rgb_frame = self._screens[0]
        self._luma = None
        self._frames = collections.deque(maxlen=frame_buffer_length)
        self.episode_id = -1

        self._game_window = (viewer.LiveWindow(env_id) if render_game
                             else None)
        self._input_window = (viewer.LiveWindow(env_id + ' (agent input)',
                                                zoom=3)
                              if render_agent_input else None)
        self.monitor_dir = monitor_dir
        self._monitor = None

    @property
    def n_actions(self):
        return int(self.action_space.n)

    def _grab(self, slot):
        self._ale.getScreenRGB(self._screens[slot])

    @property
    def ram(self):
        """The emulator's 128 bytes of RAM now, ``(128,)`` uint8."""
        return self._ale.getRAM()

    @property
    def screen(self):
        """The emulator's last screen alone, ``(210, 160, 3)`` uint8 (the
        one its RAM describes; :attr:`rgb_frame` is the maximum of the
        step's last two)."""
        return self._ale.getScreenRGB()

    def set_ram(self, address, value):
        """Write one byte of the emulator's RAM."""
        self._ale.setRAM(address, value)

    @property
    def sticky_actions(self):
        """Whether the emulator repeats the previous action at random
        (``-v0`` and ``ALE/...-v5`` ids)."""
        return self._ale.getFloat('repeat_action_probability') > 0

    def clone_state(self):
        """Everything a step changes (the emulator with its random
        numbers, the stacked frames, the last two screens, the life
        count), for :meth:`restore_state`. ALE keeps the last action
        outside it: with :attr:`sticky_actions` a restored step need not
        replay alike."""
        return (self._ale.cloneState(include_rng=True), list(self._frames),
                self._screens.copy(), self._lives, self._life_lost)

    def restore_state(self, state):
        """Go back to a :meth:`clone_state`."""
        ale_state, frames, screens, lives, life_lost = state
        self._ale.restoreState(ale_state)
        self._frames.clear()
        self._frames.extend(frames)
        self._screens[...] = screens
        self._lives, self._life_lost = lives, life_lost

    @property
    def luma_frame(self):
        """BT.709 luminance of :attr:`rgb_frame`, ``(210, 160)`` uint8."""
        if self._luma is None:
            gray = getattr(self.preprocessor, 'last_luminance', None)
            if gray is None:
                gray = luminance(self.rgb_frame)
            self._luma = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
        return self._luma

    def _observe(self, restart=False):
        self.rgb_frame = (np.maximum(self._screens[0], self._screens[1])
                          if self.max_pool else self._screens[1].copy())
        frame = self.preprocessor(self.rgb_frame)
        self._luma = None
        if restart:
            self._restart_stack(frame)
        self._frames.append(frame)
        self._show(frame)
        if self._monitor is not None:
            self._monitor.append(self.rgb_frame)
        return np.stack(self._frames)

    def _show(self, frame):
        if self._game_window is not None:
            self._game_window.show(self.rgb_frame)
        if self._input_window is not None:
            self._input_window.show(np.repeat(frame[:, :, None], 3, axis=2))

    def _life_rules(self, setting):
        """Resolve ``'auto'``: on for games with lives and a FIRE action."""
        if setting == 'auto':
            return self._ale.lives() > 0 and self._fire is not None
        return bool(setting)

    def _repeat(self, ale_action):
        """Play ``ale_action`` for ``frame_skip`` frames, grabbing the last
        two screens; returns the summed reward."""
        low, high = self._skips
        skip = low if low == high else int(
            self._atari.np_random.integers(low, high + 1))
        reward = 0.0
        for k in range(skip):
            reward += self._ale.act(ale_action)
            if self._ale.game_over():
                self._grab(0)
                self._screens[1] = self._screens[0]
                break
            if k >= skip - 2:
                self._grab(k - (skip - 2))
        if skip == 1:
            self._screens[0] = self._screens[1]
        return reward

    def _start_life(self, after_loss=False):
        if self.fire_on_new_life == FIRE_RESET:
            if self._fire is not None:
                if after_loss:      # EpisodicLifeEnv's reset: a no-op step
                    self._repeat(self._action_set[0])
                self._repeat(self._action_set[self._fire])
                self._repeat(self._action_set[2])
            self._lives = self._ale.lives()
            return
        self._lives = self._ale.lives()
        if self._life_rules(self.fire_on_new_life):
            self._repeat(self._action_set[self._fire])

    def reset(self, seed=None):
        """Start an episode; ``seed`` (or the constructor's) seeds it.

        After an episode that ended at a lost life (``episodic_life``), the
        same game goes on from where it is.
        """
        if seed is None:
            seed, self._next_seed = self._next_seed, None
        if self._life_lost:
            self._life_lost = False
        else:
            self._atari.reset(seed=seed)
            if self.noop_max > 0:
                for _ in range(int(self._atari.np_random.integers(
                        1, self.noop_max + 1))):
                    self._ale.act(self._action_set[0])
                    if self._ale.game_over():
                        self._atari.reset()
            self._start_monitor()
        self._start_life()
        self._grab(0)
        self._screens[1] = self._screens[0]
        return self._observe(restart=True)

    def _restart_stack(self, frame):
        """Empty the stack and fill all but its newest slot (``frame``'s)
        with copies of ``frame`` or zeros (:attr:`stack_fill`)."""
        self._frames.clear()
        fill = frame if self.stack_fill == 'copies' else np.zeros_like(frame)
        for _ in range(self.frame_buffer_length - 1):
            self._frames.append(fill)

    def step(self, action):
        reward = self._repeat(self._action_set[int(action)])
        terminated = self._ale.game_over(with_truncation=False)
        truncated = self._ale.game_truncated()
        lives = self._ale.lives()
        life_lost = lives < self._lives and not self._ale.game_over()
        self._lives = lives
        if life_lost and self._life_rules(self.episodic_life):
            # A lost life ends the (training) episode; the game goes on.
            terminated = self._life_lost = True
        elif life_lost:
            self._start_life(after_loss=True)
        if self.reward_filter is not None:
            reward = self.reward_filter(reward)
        obs = self._observe(restart=life_lost
                            and self.life_loss == 'new_stack')
        info = {'needs_reset': bool(truncated and not terminated)}
        return obs, reward, bool(terminated), info

    def _start_monitor(self):
        self.episode_id += 1
        if self._monitor is not None:
            self._monitor.close()
            self._monitor = None
        if self.monitor_dir and _is_monitored_episode(self.episode_id):
            path = '{}/episode-{:06d}.mp4'.format(self.monitor_dir,
                                                  self.episode_id)
            self._monitor = Mp4Writer(path, fps=self.step_rate)

    def close(self):
        monitor, self._monitor = self._monitor, None
        try:
            if monitor is not None:
                monitor.close()
        finally:
            for window in (self._game_window, self._input_window):
                if window is not None:
                    window.close()
            self._gym_env.close()
