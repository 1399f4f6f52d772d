"""How an agent's observations are made from the game: its input protocol.

An agent must see frames the way it was trained. The suite's own agents
see what :class:`env_gym_chainer.GymEnvironment` makes by default (4
emulator frames per step, the maximum of the last two, up to 30 no-ops
after a reset) through their architecture's preprocessing. An imported
agent (:mod:`importers`) was trained on other frames; its
``checkpoint.json`` holds a ``protocol`` object, and every tool builds the
environment from :func:`of` (``info``) instead of the architecture alone.

Fields (missing ones take the architecture's own):

* ``crop_rows``: ``[first, stop]`` screen rows kept, or null for all;
* ``gray``: ``luma`` (BT.709 weights), ``bt601`` (0.299 R + 0.587 G +
  0.114 B, OpenCV's ``COLOR_RGB2GRAY``) or ``mean`` (of R, G and B);
* ``resize``: ``area`` (box filter, OpenCV's ``INTER_AREA``),
  ``bilinear`` (pixel centres aligned, OpenCV's default ``INTER_LINEAR``)
  or ``imresize`` (scipy's ``imresize`` of the float frame: byte-scaled by
  its own extremes, then Pillow's antialiased bilinear filter;
  :mod:`kernels.imresize`);
* ``size``: side of the square frame (must be the network's);
* ``frame_skip``: emulator frames per step, or ``[low, high]`` for a
  uniform draw per step (gym's ``Breakout-v0`` and ``-v4``: 2..4);
* ``max_pool``: whether a step's frame is the maximum of its last two
  screens (else the last screen alone);
* ``noop_max``: at most this many no-op frames after a reset (0: none);
* ``fire_on_new_life``: ``"auto"`` (press FIRE for one step at the start
  of every life in games that have lives and FIRE, as the suite's own
  agents play), ``"fire_reset"`` (Stable-Baselines3's FireResetEnv: FIRE
  then action 2 at every reset and new life, a no-op step after a lost
  life) or false (the agent presses FIRE itself: Greydanus' agents were
  trained that way);
* ``resize_first``: the RGB frame is resized (each channel rounded to 8
  bits) before it is made gray (CleanRL's wrapper order), else gray first;
* ``stack_fill``: at a reset the stack's older slots hold ``copies`` of
  the first frame (ChainerRL, gym's FrameStack) or ``zeros``
  (Stable-Baselines3's VecFrameStack);
* ``life_loss``: ``continue`` (a lost life leaves the stack alone) or
  ``new_stack`` (the stack restarts as at a reset: the libraries whose
  wrappers end an episode at a lost life, played here as whole games).

Every observation is uint8, as everywhere in the suite: a protocol whose
source scaled floats (Greydanus et al. divide the resized float frame by
255) is rounded to the nearest level, at most 0.5/255 away.
"""
from env_gym_chainer import (FIRE_RULES, GRAYS, LIFE_LOSSES, RESIZES,
                             STACK_FILLS, FramePreprocessor)

FIELDS = ('crop_rows', 'gray', 'resize', 'size', 'frame_skip', 'max_pool',
          'noop_max', 'fire_on_new_life', 'resize_first', 'stack_fill',
          'life_loss')


class ProtocolError(ValueError):
    """A ``protocol`` object that is not one this suite can play."""


def own(arch_preprocessor):
    """The protocol of the suite's own agents with the preprocessing
    ``arch_preprocessor`` (a :class:`FramePreprocessor`)."""
    p = arch_preprocessor
    return {'crop_rows': list(p.crop_rows) if p.crop_rows else None,
            'gray': p.gray, 'resize': p.resample, 'size': p.size,
            'frame_skip': 4, 'max_pool': True, 'noop_max': 30,
            'fire_on_new_life': 'auto', 'resize_first': False,
            'stack_fill': 'copies', 'life_loss': 'continue'}


def _int(value, low, high):
    return (isinstance(value, int) and not isinstance(value, bool)
            and low <= value <= high)


def check(protocol, size):
    """Raise :class:`ProtocolError` unless ``protocol`` (from an untrusted
    ``checkpoint.json``) is a JSON object of known fields with values this
    suite plays, for a network whose frames are ``size`` pixels wide."""
    if not isinstance(protocol, dict):
        raise ProtocolError('protocol is not a JSON object')
    unknown = sorted(set(protocol) - set(FIELDS))
    if unknown:
        raise ProtocolError('protocol has unknown field(s) {}'.format(
            ', '.join(map(repr, unknown))))
    problems = {
        'crop_rows': lambda v: v is None or (
            isinstance(v, list) and len(v) == 2
            and all(_int(r, 0, 210) for r in v) and v[0] + 8 <= v[1]),
        'gray': lambda v: v in GRAYS,
        'resize': lambda v: v in RESIZES,
        'size': lambda v: v == size,
        'frame_skip': lambda v: _int(v, 1, 16) or (
            isinstance(v, list) and len(v) == 2
            and all(_int(k, 1, 16) for k in v) and v[0] <= v[1]),
        'max_pool': lambda v: isinstance(v, bool),
        'noop_max': lambda v: _int(v, 0, 100),
        'fire_on_new_life': lambda v: v in FIRE_RULES,
        'resize_first': lambda v: isinstance(v, bool),
        'stack_fill': lambda v: v in STACK_FILLS,
        'life_loss': lambda v: v in LIFE_LOSSES,
    }
    for name, value in protocol.items():
        if not problems[name](value):
            raise ProtocolError('protocol field {} is {!r}{}'.format(
                name, value, ' (the network sees {}x{} frames)'.format(
                    size, size) if name == 'size' else ''))


def of(info, arch_preprocessor):
    """The protocol an agent with checkpoint ``info`` plays by: its
    ``protocol`` over its architecture's own."""
    protocol = own(arch_preprocessor)
    protocol.update(info.get('protocol') or {})
    return protocol


def preprocessor(protocol):
    """The :class:`FramePreprocessor` of ``protocol``."""
    crop = protocol['crop_rows']
    return FramePreprocessor(protocol['size'],
                             crop_rows=tuple(crop) if crop else None,
                             gray=protocol['gray'],
                             resample=protocol['resize'],
                             resize_first=protocol['resize_first'])


def environment_options(protocol):
    """The :class:`GymEnvironment` arguments of ``protocol`` besides the
    preprocessor."""
    skip = protocol['frame_skip']
    return {'frame_skip': tuple(skip) if isinstance(skip, list) else skip,
            'max_pool': protocol['max_pool'],
            'noop_max': protocol['noop_max'],
            'fire_on_new_life': protocol['fire_on_new_life'],
            'stack_fill': protocol['stack_fill'],
            'life_loss': protocol['life_loss']}


def steps(protocol):
    """The protocol as the small steps that make one observation, in the
    order they run, each a line a reader can check against the source
    the protocol follows."""
    skip = protocol['frame_skip']
    if isinstance(skip, list):
        lines = ['each step repeats the action for {}..{} emulator frames, '
                 'drawn uniformly per step; rewards summed'.format(*skip)]
    else:
        lines = ['each step repeats the action for {} emulator frames; '
                 'rewards summed'.format(skip)]
    lines.append('the step\'s screen: ' + (
        'the maximum of its last two screens' if protocol['max_pool']
        else 'the last screen alone'))
    if protocol['noop_max']:
        lines.append('after a reset, 1..{} no-op frames'.format(
            protocol['noop_max']))
    else:
        lines.append('no no-op frames after a reset')
    if protocol['fire_on_new_life'] == 'fire_reset':
        lines.append('in games with FIRE, at every reset and every new '
                     'life: after a lost life one no-op step, then FIRE for '
                     'one step, then action 2 for one step (FireResetEnv, '
                     'EpisodicLifeEnv)')
    elif protocol['fire_on_new_life']:
        lines.append('FIRE for one step at the start of every life (games '
                     'with lives and FIRE)')
    else:
        lines.append('no FIRE pressed for the agent: it starts each life '
                     'itself')
    crop = protocol['crop_rows']
    if crop:
        lines.append('keep screen rows {}..{}'.format(crop[0], crop[1] - 1))
    gray = {
        'luma': 'gray = 0.2126 R + 0.7152 G + 0.0722 B (BT.709)',
        'bt601': 'gray = 0.299 R + 0.587 G + 0.114 B (BT.601, OpenCV\'s '
                 'COLOR_RGB2GRAY)',
        'mean': 'gray = (R + G + B) / 3'}[protocol['gray']]
    size = protocol['size']
    if protocol.get('resize_first'):
        lines.append('resize each colour channel to {0}x{0}: box filter '
                     '(OpenCV\'s INTER_AREA), rounded to 8 bits'.format(size))
        lines.append('then ' + gray + ', rounded to 8 bits')
        lines.append('the network reads the 8-bit frames / 255')
        return lines + _stack_lines(protocol)
    lines.append(gray)
    if protocol['resize'] == 'imresize':
        lines.append('byte-scale by the frame\'s own minimum and maximum to '
                     '0..255, rounded half up (scipy\'s bytescale)')
        lines.append('resize to {0}x{0} with Pillow\'s bilinear filter '
                     '(antialiased; horizontal pass, then vertical, 8 bits '
                     'between)'.format(size))
    else:
        lines.append('resize to {0}x{0}: {1}, rounded to 8 bits'.format(
            size, {'area': 'box filter (OpenCV\'s INTER_AREA)',
                   'bilinear': 'bilinear, pixel centres aligned (OpenCV\'s '
                               'INTER_LINEAR)'}[protocol['resize']]))
    lines.append('the network reads the 8-bit frames / 255')
    return lines + _stack_lines(protocol)


def _stack_lines(protocol):
    """The steps of the frame stack."""
    fill = protocol.get('stack_fill', 'copies')
    lines = ['stacked frames, newest last; at a reset the older slots hold '
             + ('copies of the first frame' if fill == 'copies'
                else 'zeros')]
    if protocol.get('life_loss') == 'new_stack':
        lines.append('a lost life restarts the stack as a reset does (the '
                     'game goes on: one evaluation episode is a whole game)')
    return lines


# Named protocols a user can pick on import (``import_agent.py
# --protocol``); each format's default is one of them.
PRESETS = {
    # baby-a3c and visualize_atari (Greydanus et al.): gym's <Game>-v4
    # steps 2..4 frames drawn per step and keeps the last screen (no
    # max-pooling, no no-ops); prepro(img) = imresize(img[35:195].mean(2),
    # (80, 80)) / 255: byte-scaled, Pillow's bilinear filter, one frame.
    'greydanus': {'crop_rows': [35, 195], 'gray': 'mean',
                  'resize': 'imresize', 'size': 80, 'frame_skip': [2, 4],
                  'max_pool': False, 'noop_max': 0, 'fire_on_new_life': False},
    # The XAITK notebook's input for the same agents: cv2.resize (bilinear)
    # of the float frame, not byte-scaled. It does not reproduce the
    # published scores (docs/agents-elsewhere.md); kept to compare.
    'xaitk-cv2': {'crop_rows': [35, 195], 'gray': 'mean',
                  'resize': 'bilinear', 'size': 80, 'frame_skip': [2, 4],
                  'max_pool': False, 'noop_max': 0, 'fire_on_new_life': False},
    # ChainerRL's atari_wrappers: 30 no-ops, 4 frames with the maximum of
    # the last two, COLOR_RGB2GRAY, INTER_AREA to 84x84, 4 stacked.
    'chainerrl': {'crop_rows': None, 'gray': 'bt601', 'resize': 'area',
                  'size': 84, 'frame_skip': 4, 'max_pool': True,
                  'noop_max': 30, 'fire_on_new_life': 'auto'},
    # Stable-Baselines3's AtariWrapper + VecFrameStack(4): 1..30 no-ops,
    # 4 frames with the maximum of the last two, FIRE where the game has
    # it, cvtColor(RGB2GRAY) then INTER_AREA to 84x84, a lost life ends a
    # wrapper episode (the stack restarts, zeros and the newest frame).
    'sb3': {'crop_rows': None, 'gray': 'bt601', 'resize': 'area',
            'size': 84, 'frame_skip': 4, 'max_pool': True, 'noop_max': 30,
            'fire_on_new_life': 'fire_reset', 'stack_fill': 'zeros',
            'life_loss': 'new_stack'},
    # CleanRL's ppo_atari / dqn_atari: the same, but ResizeObservation
    # (INTER_AREA on RGB) before GrayscaleObservation, and FrameStack's
    # reset fills the stack with copies of the first frame.
    'cleanrl': {'crop_rows': None, 'gray': 'bt601', 'resize': 'area',
                'size': 84, 'frame_skip': 4, 'max_pool': True,
                'noop_max': 30, 'fire_on_new_life': 'fire_reset',
                'resize_first': True, 'stack_fill': 'copies',
                'life_loss': 'new_stack'},
    # PFRL's wrap_deepmind for evaluation: no-ops, skip 4 with max, gray
    # then INTER_AREA, 4 stacked (copies); no FIRE, no life-loss end.
    'pfrl': {'crop_rows': None, 'gray': 'bt601', 'resize': 'area',
             'size': 84, 'frame_skip': 4, 'max_pool': True, 'noop_max': 30,
             'fire_on_new_life': False},
}
# Every preset is a whole protocol: the fields it leaves out take the
# suite's own values.
PRESETS = {name: dict({'fire_on_new_life': 'auto', 'resize_first': False,
                       'stack_fill': 'copies', 'life_loss': 'continue'},
                      **fields) for name, fields in PRESETS.items()}
