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
:func:`remove_brick` takes one cell out of Breakout's wall the same way
(its bit in :data:`WALL_BITS` cleared) and is honoured only when exactly
that cell goes dark.
Games with sticky actions are refused: ALE keeps the last action outside
the cloned state, so the two plays of a step would not start alike.
"""
import collections

import numpy as np

from evaluation import objects

# The objects moved, per game; their position bytes and units are those
# of evaluation.objects (ADDRESSES, UNITS), the one table. Space Invaders'
# shot is read but not moved (it is in flight for a few steps only).
MOVED = {'pong': ('ball', 'player', 'enemy'), 'breakout': ('ball', 'paddle'),
         'boxing': ('player', 'enemy'),
         'space_invaders': ('aliens', 'cannon')}
POSITION_BYTES = {game: {name: objects.ADDRESSES[game][name]
                         for name in names}
                  for game, names in MOVED.items()}
UNITS = objects.UNITS

Outcome = collections.namedtuple(
    'Outcome', 'obs moved_obs rgb moved_rgb screen moved_screen box '
    'moved_box honoured reward done info')
Outcome.__doc__ = """What one intervention did.

``obs`` and ``moved_obs``: the stacked observations after the step,
unmoved and moved; ``rgb``, ``moved_rgb``: the game frames they were made
from (the maximum of the step's last two screens); ``screen``,
``moved_screen``: the last screen alone, the one the RAM describes;
``box``, ``moved_box``: the object's box from RAM after the step
(None off the screen); ``honoured``: whether ``moved_box`` is ``box``
shifted by the asked offset; ``reward``, ``done`` and ``info``: the
unmoved step's, as :meth:`GymEnvironment.step` returns them."""


# ALE keeps the last action outside the cloned state: with sticky actions
# the second play of a step would not start as the first.
_STICKY = ('interventions need an emulator without sticky actions (a '
           'NoFrameskip-v4 id, or ALE/...-v5 with '
           'repeat_action_probability=0)')


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
        raise InterventionError(_STICKY)
    if not _fits((x_byte, y_byte), dx, dy):
        raise InterventionError('{} {} moves only {}'.format(
            game, name, 'vertically' if x_byte is None else 'horizontally'))
    units = UNITS.get((game, name), (1, 1))
    if dx % units[0] or dy % units[1]:
        raise InterventionError(
            '{} {} moves in steps of {} pixel(s) across and {} down'
            .format(game, name, *units))
    ram = env.ram
    before = objects.objects(game, ram)[name]
    if before is not None and not (0 <= before.x + dx <= 160 - before.w
                                   and 0 <= before.y + dy <= 210 - before.h):
        raise InterventionError(
            'moving {} by ({}, {}) puts it off the screen (it is at x {}, '
            'y {})'.format(name, dx, dy, before.x, before.y))
    writes = [(address, (int(ram[address]) + offset // unit) % 256)
              for address, offset, unit in ((x_byte, dx, units[0]),
                                            (y_byte, dy, units[1]))
              if address is not None and offset]
    moved, unmoved = _play_twice(env, writes, action)
    box = objects.objects(game, unmoved['ram'])[name]
    moved_box = objects.objects(game, moved['ram'])[name]
    honoured = (box is not None and moved_box is not None
                and (moved_box.x - box.x, moved_box.y - box.y) == (dx, dy))
    return _outcome(moved, unmoved, box, moved_box, honoured)


def _play_twice(env, writes, action):
    """Play ``action`` once after the RAM ``writes`` ``[(address,
    value)]`` and once without, from the same state, leaving ``env`` in
    the second; returns what each play left (observation, frames, RAM,
    the unmoved step's done and info)."""
    start = env.clone_state()
    try:
        for address, value in writes:
            env.set_ram(address, value)
        moved = {'obs': env.step(action)[0].copy()}
        moved.update(rgb=env.rgb_frame.copy(), screen=env.screen,
                     ram=env.ram.copy())
    finally:
        env.restore_state(start)
    obs, reward, done, info = env.step(action)
    unmoved = {'obs': obs.copy(), 'rgb': env.rgb_frame.copy(),
               'screen': env.screen, 'ram': env.ram.copy(), 'done': done,
               'reward': reward, 'info': info}
    return moved, unmoved


def _outcome(moved, unmoved, box, moved_box, honoured):
    return Outcome(unmoved['obs'], moved['obs'], unmoved['rgb'],
                   moved['rgb'], unmoved['screen'], moved['screen'], box,
                   moved_box, honoured, unmoved['reward'], unmoved['done'],
                   unmoved['info'])


# Breakout's wall: 6 rows of 36 cells from x 8 and y 57, each cell 4x6
# screen pixels and one RAM bit (the game's bricks are two cells wide).
# Per group of six bytes (one per row, the bottom row first): the bits
# used and the wall column each draws. Measured by clearing every bit of
# a real game and finding the pixels that vanished; tests check it.
WALL = {'x': 8, 'y': 57, 'w': 4, 'h': 6, 'rows': 6, 'columns': 36}
_WALL_GROUPS = [(30, range(6, 8), lambda bit: bit - 6),
                (24, range(8), lambda bit: 9 - bit),
                (18, range(8), lambda bit: 10 + bit),
                (12, range(4, 8), lambda bit: 14 + bit),
                (6, range(8), lambda bit: 29 - bit),
                (0, range(6), lambda bit: 30 + bit)]
WALL_BITS = {(column(bit), row): (first + WALL['rows'] - 1 - row, bit)
             for first, bits, column in _WALL_GROUPS for bit in bits
             for row in range(WALL['rows'])}


def brick_box(column, row):
    """The screen box of wall cell ``(column, row)`` (row 0 the top)."""
    return objects.Box(WALL['x'] + WALL['w'] * column,
                       WALL['y'] + WALL['h'] * row, WALL['w'], WALL['h'])


def bricks(ram):
    """The wall cells ``(column, row)`` that ``ram`` says are standing."""
    return sorted(cell for cell, (address, bit) in WALL_BITS.items()
                  if int(ram[address]) >> bit & 1)


def brick_below(ram):
    """The standing cell the ball would meet first going up: the lowest
    in the column above the ball (the paddle when no ball is on the
    screen); None when that column is empty."""
    found = objects.breakout(ram)
    target = found['ball'] or found['paddle']
    x = objects.centre(target)[0]
    column = min(max(int((x - WALL['x']) // WALL['w']), 0),
                 WALL['columns'] - 1)
    rows = [row for c, row in bricks(ram) if c == column]
    return (column, max(rows)) if rows else None


def remove_brick(env, column, row, action):
    """Play ``action`` with and without wall cell ``(column, row)`` of
    Breakout removed; an :class:`Outcome` whose ``box`` is the cell and
    ``moved_box`` None. Honoured when the game drew exactly that: the cell
    is lit on the unmoved screen and dark on the other, its bit stays
    clear, and no other pixel of the wall's band differs."""
    if env.sticky_actions:
        raise InterventionError(_STICKY)
    if (column, row) not in WALL_BITS:
        raise InterventionError('no wall cell ({}, {}): columns 0-{}, rows '
                                '0-{}'.format(column, row,
                                              WALL['columns'] - 1,
                                              WALL['rows'] - 1))
    address, bit = WALL_BITS[(column, row)]
    ram = env.ram
    if not int(ram[address]) >> bit & 1:
        raise InterventionError('wall cell ({}, {}) is already gone'.format(
            column, row))
    moved, unmoved = _play_twice(
        env, [(address, int(ram[address]) & ~(1 << bit))], action)
    box = brick_box(column, row)
    band = slice(WALL['y'] - WALL['h'], WALL['y'] + WALL['h'] * (
        WALL['rows'] + 1))
    cell = (slice(box.y, box.y + box.h), slice(box.x, box.x + box.w))
    lit = [np.asarray(s).reshape(210, 160, -1).any(axis=-1)
           for s in (unmoved['screen'], moved['screen'])]
    differs = lit[0] != lit[1]
    differs[cell] = False
    honoured = bool(lit[0][cell].all() and not lit[1][cell].any()
                    and not differs[band].any()
                    and not int(moved['ram'][address]) >> bit & 1)
    return _outcome(moved, unmoved, box, None, honoured)


# The games whose wall cells can be removed (:func:`remove_brick`).
WALL_GAMES = ('breakout',)


def targets(game, offset):
    """What :func:`apply` can do in ``game``: the objects that move by
    ``offset`` (:func:`movable`), then ``'brick'`` where the game has a
    wall."""
    return movable(game, offset) + (['brick'] if game in WALL_GAMES else [])


def apply(env, game, name, offset, action):
    """:func:`intervene` object ``name`` by ``offset``, or for
    ``'brick'`` :func:`remove_brick` the cell the ball meets next
    (:func:`brick_below`)."""
    if name != 'brick':
        return intervene(env, game, name, *offset, action)
    if game not in WALL_GAMES:
        raise InterventionError('{} has no wall of bricks'.format(game))
    cell = brick_below(env.ram)
    if cell is None:
        raise InterventionError('no brick left in the column')
    return remove_brick(env, *cell, action)
