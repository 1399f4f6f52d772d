"""Where a game's objects are, read from the emulator's RAM.

Boxes are ``(x, y, w, h)`` on the 160x210 screen, ``(x, y)`` the top-left
pixel, from the RAM addresses that OCAtari documents (tests check them
against the pixels of real frames). An object that is not on the screen
(the ball between points, or before a serve) is None.

:func:`to_input` maps a screen point into the coordinates of the network's
input for a :class:`env_gym_chainer.FramePreprocessor`.
"""
import collections

Box = collections.namedtuple('Box', 'x y w h')

# The one table of RAM addresses: per game and object, the byte of its x
# and the byte of its y (None: the game keeps that coordinate fixed).
# The readers below place the boxes from them; interventions write them.
ADDRESSES = {
    'pong': {'ball': (49, 54), 'player': (None, 51), 'enemy': (None, 50)},
    'breakout': {'ball': (99, 101), 'paddle': (72, None)},
    'boxing': {'player': (32, 34), 'enemy': (33, 35)},
    'space_invaders': {'aliens': (26, 16), 'cannon': (28, None),
                       'shot': (87, 85)},
}
# Screen pixels per unit of an object's (x byte, y byte), where not 1.
UNITS = {('space_invaders', 'aliens'): (1, 2),
         ('space_invaders', 'shot'): (1, 2)}


def _bytes(ram, game, name):
    """The values of the object's (x, y) bytes (None where fixed)."""
    return tuple(None if address is None else int(ram[address])
                 for address in ADDRESSES[game][name])


def _on_screen(box, top, bottom):
    return box if 0 <= box.x < 160 and top <= box.y < bottom else None


def pong(ram):
    """Ball, the agent's paddle (right, green) and the enemy's (left)."""
    ball_x, ball_y = _bytes(ram, 'pong', 'ball')
    return {'ball': _on_screen(Box(ball_x - 49, ball_y - 14, 2, 4), 34,
                               194),
            'player': Box(140, _bytes(ram, 'pong', 'player')[1] - 13, 4, 16),
            'enemy': Box(16, _bytes(ram, 'pong', 'enemy')[1] - 15, 4, 16)}


def breakout(ram):
    """Ball and the agent's paddle."""
    ball_x, ball_y = _bytes(ram, 'breakout', 'ball')
    return {'ball': _on_screen(Box(ball_x - 49, ball_y + 9, 2, 4), 32,
                               196),
            'paddle': Box(_bytes(ram, 'breakout', 'paddle')[0] - 47, 189,
                          16, 4)}


def boxing(ram):
    """The agent's boxer (white) and the enemy (black), arms in; a punch
    reaches 7 to 16 pixels beyond the box, towards the other boxer.

    OCAtari's table reads the enemy at ``(ram[33] + 4, ram[35] + 38)``;
    on the frames of ale-py 0.12 the black boxer's top-left pixel is one
    to the left and one up (``tests/test_objects.py`` checks it)."""
    player_x, player_y = _bytes(ram, 'boxing', 'player')
    enemy_x, enemy_y = _bytes(ram, 'boxing', 'enemy')
    return {'player': Box(player_x + 5, player_y + 38, 14, 47),
            'enemy': Box(enemy_x + 3, enemy_y + 37, 14, 47)}


# Space Invaders' alien block: six rows of six, 16 pixels apart across
# and 18 down, each alien 8x10; RAM byte 18 + k holds row k counted from
# the bottom, one bit a column, the leftmost alive column at ram[26] - 1.
ALIEN_ROWS = range(18, 24)


def spaceinvaders(ram):
    """The agent's cannon (green; a moving cannon is drawn one pixel
    behind its byte), the block of the aliens still alive (None when none
    is) and the cannon's shot (None while it is not in flight), from
    OCAtari's addresses."""
    rows = [int(ram[k]) for k in ALIEN_ROWS]
    columns = 0
    for row in rows:
        columns |= row
    aliens = None
    if columns:
        alive = [k for k, row in enumerate(rows) if row]
        block_x, block_y = _bytes(ram, 'space_invaders', 'aliens')
        top = 31 + 2 * block_y + 18 * (5 - max(alive))
        bottom = 31 + 2 * block_y + 18 * (5 - min(alive)) + 10
        aliens = Box(block_x - 1, top, 16 * (columns.bit_length() - 1) + 8,
                     bottom - top)
    shot_x, shot_y = _bytes(ram, 'space_invaders', 'shot')
    return {'cannon': Box(_bytes(ram, 'space_invaders', 'cannon')[0] - 1,
                          185, 7, 10),
            'aliens': aliens,
            # The shot moves fast: its pixels in a step's last two screens
            # lie 3 above to 12 below 2 * y byte + 4 (tests measure it).
            'shot': _on_screen(Box(shot_x - 2, 2 * shot_y, 1, 16), 20,
                               185)}


GAMES = {'pong': pong, 'breakout': breakout, 'boxing': boxing,
         'space_invaders': spaceinvaders}


def objects(game, ram):
    """``{name: Box or None}`` of ``game`` (e.g. ``'pong'``), or raises
    KeyError for a game without a table."""
    return GAMES[game](ram)


def centre(box):
    """The centre of a box, in screen pixels ``(x, y)``."""
    return box.x + box.w / 2, box.y + box.h / 2


def to_input(point, preprocessor):
    """A screen point ``(x, y)`` in the network input's pixel
    coordinates ``(column, row)`` (cropping and resizing as the
    preprocessor does)."""
    top, bottom = preprocessor.crop_rows or (0, 210)
    size = preprocessor.size
    x, y = point
    return x * size / 160, (y - top) * size / (bottom - top)
