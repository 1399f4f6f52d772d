"""Interventions on the real emulator: move a game object by writing RAM.

From the emulator's state just before an agent step, :func:`intervene`
plays that step twice with the same action: once as the game would, once
after writing the object's position bytes (:data:`POSITION_BYTES`) moved
by ``(dx, dy)`` screen pixels. The emulator draws both; the environment
builds both observations its own way (frame skip, max of the last two
frames, preprocessing, stacking), so the second is exactly what the agent
would have seen had the object been elsewhere. The environment is left in
the unmoved outcome, as if nothing had been done.

An intervention counts only if the game drew it as asked: the object's
box read from RAM after the step (:mod:`evaluation.objects`) is the
unmoved one shifted by ``(dx, dy)``, on the screen in both. Anything else
(the object off the screen, a collision that the move caused, a game that
rewrites the byte) is reported as not ``honoured``, never kept silently.
The paddles of Pong and Breakout are such objects: the games recompute
their bytes from the controller every frame, so no paddle move is
honoured, while balls and boxers move unless the move runs them into a
wall, a brick or the other boxer, or off the screen
(``tests/evaluation/test_interventions.py`` checks both on real frames).
Games with sticky actions are refused: ALE keeps the last action outside
the cloned state, so the two plays of a step would not start alike.
"""
import collections

from evaluation import objects

# Per game and object: the RAM byte of its x and of its y (None: the game
# keeps that coordinate fixed); one unit of a byte is one screen pixel.
POSITION_BYTES = {
    'pong': {'ball': (49, 54), 'player': (None, 51), 'enemy': (None, 50)},
    'breakout': {'ball': (99, 101), 'paddle': (72, None)},
    'boxing': {'player': (32, 34), 'enemy': (33, 35)},
}

Outcome = collections.namedtuple(
    'Outcome', 'obs moved_obs rgb moved_rgb screen moved_screen box '
    'moved_box honoured done info')
Outcome.__doc__ = """What one intervention did.

``obs`` and ``moved_obs``: the stacked observations after the step,
unmoved and moved; ``rgb``, ``moved_rgb``: the game frames they were made
from (the maximum of the step's last two screens); ``screen``,
``moved_screen``: the last screen alone, the one the RAM describes;
``box``, ``moved_box``: the object's box from RAM after the step
(None off the screen); ``honoured``: whether ``moved_box`` is ``box``
shifted by the asked offset; ``done`` and ``info``: the unmoved step's, as
:meth:`GymEnvironment.step` returns them."""


class InterventionError(ValueError):
    """An intervention that cannot be asked for (a game or object without
    RAM bytes, an offset that leaves the screen)."""


def _table(game):
    if game not in POSITION_BYTES:
        raise InterventionError(
            'no RAM table for {!r}: interventions know {}'.format(
                game, ', '.join(sorted(POSITION_BYTES))))
    return POSITION_BYTES[game]


def position_bytes(game, name):
    """``(x byte, y byte)`` of object ``name`` of ``game``."""
    table = _table(game)
    if name not in table:
        raise InterventionError('{} has no object {!r}; it has {}'.format(
            game, name, ', '.join(sorted(table))))
    return table[name]


def movable(game, offset):
    """The objects of ``game`` that can move by ``offset`` ``(dx, dy)``
    (a game keeps some coordinates fixed: Pong's paddles move only up and
    down)."""
    return [name for name, position in sorted(_table(game).items())
            if _fits(position, *offset)]


def _fits(position, dx, dy):
    x_byte, y_byte = position
    return not (dx and x_byte is None) and not (dy and y_byte is None)


def intervene(env, game, name, dx, dy, action):
    """Play ``action`` from ``env``'s current state with and without
    object ``name`` moved by ``(dx, dy)`` screen pixels; returns an
    :class:`Outcome` and leaves ``env`` in the unmoved outcome.

    Raises:
        InterventionError: no RAM bytes for the object, a move along a
            coordinate the game keeps fixed, or a position that leaves the
            160x210 screen (checked before anything is played).
    """
    x_byte, y_byte = position_bytes(game, name)
    if env.sticky_actions:
        # ALE keeps the last action outside the cloned state: with sticky
        # actions the second play of the step would not be the first's.
        raise InterventionError(
            'interventions need an emulator without sticky actions (a '
            'NoFrameskip-v4 id, or ALE/...-v5 with '
            'repeat_action_probability=0)')
    if not _fits((x_byte, y_byte), dx, dy):
        raise InterventionError('{} {} moves only {}'.format(
            game, name, 'vertically' if x_byte is None else 'horizontally'))
    ram = env.ram
    before = objects.objects(game, ram)[name]
    if before is not None and not (0 <= before.x + dx <= 160 - before.w
                                   and 0 <= before.y + dy <= 210 - before.h):
        raise InterventionError(
            'moving {} by ({}, {}) puts it off the screen (it is at x {}, '
            'y {})'.format(name, dx, dy, before.x, before.y))
    start = env.clone_state()
    try:
        for address, offset in ((x_byte, dx), (y_byte, dy)):
            if address is not None and offset:
                env.set_ram(address, (int(ram[address]) + offset) % 256)
        moved_obs = env.step(action)[0].copy()
        moved_rgb, moved_screen = env.rgb_frame.copy(), env.screen
        moved_box = objects.objects(game, env.ram)[name]
    finally:
        env.restore_state(start)
    obs, _, done, info = env.step(action)
    box = objects.objects(game, env.ram)[name]
    honoured = (box is not None and moved_box is not None
                and (moved_box.x - box.x, moved_box.y - box.y) == (dx, dy))
    return Outcome(obs.copy(), moved_obs, env.rgb_frame.copy(), moved_rgb,
                   env.screen, moved_screen, box, moved_box, honoured, done,
                   info)
