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
* ``resize``: ``area`` (box filter, OpenCV's ``INTER_AREA``) or
  ``bilinear`` (pixel centres aligned, OpenCV's default ``INTER_LINEAR``);
* ``size``: side of the square frame (must be the network's);
* ``frame_skip``: emulator frames per step, or ``[low, high]`` for a
  uniform draw per step (gym's ``Breakout-v0`` and ``-v4``: 2..4);
* ``max_pool``: whether a step's frame is the maximum of its last two
  screens (else the last screen alone);
* ``noop_max``: at most this many no-op frames after a reset (0: none).

Every observation is uint8, as everywhere in the suite: a protocol whose
source scaled floats (Greydanus et al. divide the resized float frame by
255) is rounded to the nearest level, at most 0.5/255 away.
"""
from env_gym_chainer import FramePreprocessor

FIELDS = ('crop_rows', 'gray', 'resize', 'size', 'frame_skip', 'max_pool',
          'noop_max')
GRAYS = ('luma', 'bt601', 'mean')
RESIZES = ('area', 'bilinear')


class ProtocolError(ValueError):
    """A ``protocol`` object that is not one this suite can play."""


def own(arch_preprocessor):
    """The protocol of the suite's own agents with the preprocessing
    ``arch_preprocessor`` (a :class:`FramePreprocessor`)."""
    p = arch_preprocessor
    return {'crop_rows': list(p.crop_rows) if p.crop_rows else None,
            'gray': p.gray, 'resize': p.resample, 'size': p.size,
            'frame_skip': 4, 'max_pool': True, 'noop_max': 30}


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
                             resample=protocol['resize'])


def environment_options(protocol):
    """The :class:`GymEnvironment` arguments of ``protocol`` besides the
    preprocessor."""
    skip = protocol['frame_skip']
    return {'frame_skip': tuple(skip) if isinstance(skip, list) else skip,
            'max_pool': protocol['max_pool'],
            'noop_max': protocol['noop_max']}
