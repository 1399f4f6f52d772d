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
from kernels.colour import BT601_WEIGHTS, LUMA_WEIGHTS, luminance
from kernels.imresize import PillowBilinear, bytescale
from kernels.resample import area_matrix, bilinear_matrix, resize
from media.video import Mp4Writer

gymnasium.register_envs(ale_py)
# The emulator's version banner would be the noise around every error line.
ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)

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


# The environment in five parts, each one concern: the emulator (actions,
# frame skip, screens, RAM, states), the frame stack, the life rules, the
# live windows and the monitor. GymEnvironment composes them, with the
# frame protocol (its preprocessor).

class Emulator:
    """The ALE game without preprocessing: plays an action for a frame
    skip and keeps the step's last two screens.

    Args:
        env_id (str): an ALE id.
        frame_skip (int or tuple): frames per step, or ``(low, high)``
            drawn per step from the game's seeded generator.
        max_frames_per_episode (int or None): truncation (None: the id's).
    """

    def __init__(self, env_id, frame_skip=4, max_frames_per_episode=None):
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
            self.gym_env = gymnasium.make(env_id, **kwargs)
        self.atari = self.gym_env.unwrapped
        self.ale = self.atari.ale
        self.action_set = list(self.atari._action_set)
        self.action_meanings = self.atari.get_action_meanings()
        self.fire = (self.action_meanings.index('FIRE')
                     if 'FIRE' in self.action_meanings else None)
        self.skips = skips
        # Agent steps per second of game time (the ALE runs at 60 frames/s).
        self.step_rate = 120 / (skips[0] + skips[1])
        self.screens = np.zeros((2, 210, 160, 3), dtype=np.uint8)

    def grab(self, slot):
        self.ale.getScreenRGB(self.screens[slot])

    def repeat(self, action):
        """Play agent action index ``action`` for the frame skip, grabbing
        the last two screens; returns the summed reward."""
        ale_action = self.action_set[action]
        low, high = self.skips
        skip = low if low == high else int(
            self.atari.np_random.integers(low, high + 1))
        reward = 0.0
        for k in range(skip):
            reward += self.ale.act(ale_action)
            if self.ale.game_over():
                self.grab(0)
                self.screens[1] = self.screens[0]
                break
            if k >= skip - 2:
                self.grab(k - (skip - 2))
        if skip == 1:
            self.screens[0] = self.screens[1]
        return reward

    def new_game(self, seed, noop_max):
        """Reset the game (seeded), then 1..``noop_max`` no-op frames."""
        self.atari.reset(seed=seed)
        if noop_max > 0:
            for _ in range(int(self.atari.np_random.integers(
                    1, noop_max + 1))):
                self.ale.act(self.action_set[0])
                if self.ale.game_over():
                    self.atari.reset()

    def first_screen(self):
        """Both screen slots hold the screen now (after a reset)."""
        self.grab(0)
        self.screens[1] = self.screens[0]

    def frame(self, max_pool):
        """The step's frame: the maximum of its last two screens (sprites
        flicker), or the last one alone."""
        return (np.maximum(self.screens[0], self.screens[1]) if max_pool
                else self.screens[1].copy())

    def close(self):
        self.gym_env.close()


class FrameStack:
    """The last ``length`` preprocessed frames; at a restart the older
    slots hold copies of the first frame or zeros (``fill``)."""

    def __init__(self, length, fill='copies'):
        if length < 1:
            raise ValueError('frame_buffer_length must be >= 1')
        if fill not in STACK_FILLS:
            raise ValueError('stack_fill must be copies or zeros')
        self.length, self.fill = length, fill
        self.frames = collections.deque(maxlen=length)

    def push(self, frame, restart=False):
        """Add ``frame`` (after emptying the stack on ``restart``); returns
        the ``(length, S, S)`` stack."""
        if restart:
            self.frames.clear()
            fill = frame if self.fill == 'copies' else np.zeros_like(frame)
            for _ in range(self.length - 1):
                self.frames.append(fill)
        self.frames.append(frame)
        return np.stack(self.frames)

    def state(self):
        return list(self.frames)

    def restore(self, frames):
        self.frames.clear()
        self.frames.extend(frames)


class LifeRules:
    """What a lost life does: ends a training episode (``episodic_life``),
    restarts the stack (``life_loss``), and which FIRE presses start a
    life (``fire_on_new_life``); see :class:`GymEnvironment`."""

    def __init__(self, emulator, episodic_life=False, fire_on_new_life=False,
                 life_loss='continue'):
        if life_loss not in LIFE_LOSSES:
            raise ValueError('life_loss must be continue or new_stack')
        self.emulator = emulator
        self.episodic_life = episodic_life
        self.fire_on_new_life = fire_on_new_life
        self.life_loss = life_loss
        self.lives = 0
        self.life_lost = False    # an episode that ended at a lost life

    def applies(self, setting):
        """Resolve ``'auto'``: on for games with lives and a FIRE action."""
        if setting == 'auto':
            return (self.emulator.ale.lives() > 0
                    and self.emulator.fire is not None)
        return bool(setting)

    def start_life(self, after_loss=False):
        emulator = self.emulator
        if self.fire_on_new_life == FIRE_RESET:
            if emulator.fire is not None:
                if after_loss:      # EpisodicLifeEnv's reset: a no-op step
                    emulator.repeat(0)
                emulator.repeat(emulator.fire)
                emulator.repeat(2)
            self.lives = emulator.ale.lives()
            return
        self.lives = emulator.ale.lives()
        if self.applies(self.fire_on_new_life):
            emulator.repeat(emulator.fire)

    def after_step(self):
        """After a step: ``(ends_episode, restart_stack)``."""
        ale = self.emulator.ale
        lives = ale.lives()
        life_lost = lives < self.lives and not ale.game_over()
        self.lives = lives
        ends = False
        if life_lost and self.applies(self.episodic_life):
            # A lost life ends the (training) episode; the game goes on.
            ends = self.life_lost = True
        elif life_lost:
            self.start_life(after_loss=True)
        return ends, life_lost and self.life_loss == 'new_stack'


class LiveWindows:
    """The live windows of ``--render`` (the game) and ``--render-b2w``
    (the newest preprocessed frame, what the agent sees)."""

    def __init__(self, env_id, game=False, agent_input=False):
        self.game = viewer.LiveWindow(env_id) if game else None
        self.agent_input = (viewer.LiveWindow(env_id + ' (agent input)',
                                              zoom=3)
                            if agent_input else None)

    def show(self, rgb, frame):
        if self.game is not None:
            self.game.show(rgb)
        if self.agent_input is not None:
            self.agent_input.show(np.repeat(frame[:, :, None], 3, axis=2))

    def close(self):
        for window in (self.game, self.agent_input):
            if window is not None:
                window.close()


class Monitor:
    """MP4s of episodes 0, 1, 8, 27, ..., 1000, 2000, ... in ``folder``
    (None: none)."""

    def __init__(self, folder, fps):
        self.folder, self.fps = folder, fps
        self.episode_id = -1
        self.writer = None

    def new_episode(self):
        self.episode_id += 1
        self.close()
        if self.folder and _is_monitored_episode(self.episode_id):
            path = '{}/episode-{:06d}.mp4'.format(self.folder,
                                                  self.episode_id)
            self.writer = Mp4Writer(path, fps=self.fps)

    def append(self, rgb):
        if self.writer is not None:
            self.writer.append(rgb)

    def close(self):
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()


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
        self.stack = FrameStack(frame_buffer_length, stack_fill)
        self.emulator = Emulator(env_id, frame_skip, max_frames_per_episode)
        self.rules = LifeRules(self.emulator, episodic_life,
                               fire_on_new_life, life_loss)
        self.frame_buffer_length = frame_buffer_length
        self.preprocessor = preprocessor or FramePreprocessor(84)
        self.step_rate = self.emulator.step_rate
        self.max_pool = max_pool
        self.noop_max = noop_max
        self.reward_filter = reward_filter
        self._next_seed = seed

        size = self.preprocessor.size
        self.action_space = gymnasium.spaces.Discrete(
            len(self.emulator.action_set))
        self.observation_space = gymnasium.spaces.Box(
            0, 255, (frame_buffer_length, size, size), np.uint8)
        self.action_meanings = self.emulator.action_meanings
        self.rgb_frame = self.emulator.screens[0]
        self._luma = None
        self.windows = LiveWindows(env_id, render_game, render_agent_input)
        self.monitor = Monitor(monitor_dir, self.step_rate)

    @property
    def episode_id(self):
        return self.monitor.episode_id

    @property
    def n_actions(self):
        return int(self.action_space.n)

    @property
    def ram(self):
        """The emulator's 128 bytes of RAM now, ``(128,)`` uint8."""
        return self.emulator.ale.getRAM()

    @property
    def screen(self):
        """The emulator's last screen alone, ``(210, 160, 3)`` uint8 (the
        one its RAM describes; :attr:`rgb_frame` is the maximum of the
        step's last two)."""
        return self.emulator.ale.getScreenRGB()

    def set_ram(self, address, value):
        """Write one byte of the emulator's RAM."""
        self.emulator.ale.setRAM(address, value)

    @property
    def sticky_actions(self):
        """Whether the emulator repeats the previous action at random
        (``-v0`` and ``ALE/...-v5`` ids)."""
        return self.emulator.ale.getFloat('repeat_action_probability') > 0

    def clone_state(self):
        """Everything a step changes (the emulator with its random
        numbers, the stacked frames, the last two screens, the life
        count), for :meth:`restore_state`. ALE keeps the last action
        outside it: with :attr:`sticky_actions` a restored step need not
        replay alike."""
        return (self.emulator.ale.cloneState(include_rng=True),
                self.stack.state(), self.emulator.screens.copy(),
                self.rules.lives, self.rules.life_lost)

    def restore_state(self, state):
        """Go back to a :meth:`clone_state`."""
        ale_state, frames, screens, lives, life_lost = state
        self.emulator.ale.restoreState(ale_state)
        self.stack.restore(frames)
        self.emulator.screens[...] = screens
        self.rules.lives, self.rules.life_lost = lives, life_lost

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
        self.rgb_frame = self.emulator.frame(self.max_pool)
        frame = self.preprocessor(self.rgb_frame)
        self._luma = None
        stacked = self.stack.push(frame, restart)
        self.windows.show(self.rgb_frame, frame)
        self.monitor.append(self.rgb_frame)
        return stacked

    def reset(self, seed=None):
        """Start an episode; ``seed`` (or the constructor's) seeds it.

        After an episode that ended at a lost life (``episodic_life``), the
        same game goes on from where it is.
        """
        if seed is None:
            seed, self._next_seed = self._next_seed, None
        if self.rules.life_lost:
            self.rules.life_lost = False
        else:
            self.emulator.new_game(seed, self.noop_max)
            self.monitor.new_episode()
        self.rules.start_life()
        self.emulator.first_screen()
        return self._observe(restart=True)

    def step(self, action):
        reward = self.emulator.repeat(int(action))
        ale = self.emulator.ale
        terminated = ale.game_over(with_truncation=False)
        truncated = ale.game_truncated()
        ends, restart = self.rules.after_step()
        terminated = terminated or ends
        if self.reward_filter is not None:
            reward = self.reward_filter(reward)
        obs = self._observe(restart=restart)
        info = {'needs_reset': bool(truncated and not terminated)}
        return obs, reward, bool(terminated), info

    def close(self):
        try:
            self.monitor.close()
        finally:
            self.windows.close()
            self.emulator.close()
