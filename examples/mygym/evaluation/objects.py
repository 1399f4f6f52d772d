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


def _on_screen(box, top, bottom):
    return box if 0 <= box.x < 160 and top <= box.y < bottom else None


def pong(ram):
    """Ball, the agent's paddle (right, green) and the enemy's (left)."""
    ram = [int(v) for v in ram]
    return {'ball': _on_screen(Box(ram[49] - 49, ram[54] - 14, 2, 4), 34,
                               194),
            'player': Box(140, ram[51] - 13, 4, 16),
            'enemy': Box(16, ram[50] - 15, 4, 16)}


def breakout(ram):
    """Ball and the agent's paddle."""
    ram = [int(v) for v in ram]
    return {'ball': _on_screen(Box(ram[99] - 49, ram[101] + 9, 2, 4), 32,
                               196),
            'paddle': Box(ram[72] - 47, 189, 16, 4)}


def boxing(ram):
    """The agent's boxer (white) and the enemy (black), arms in; a punch
    reaches 7 to 16 pixels beyond the box, towards the other boxer.

    OCAtari's table reads the enemy at ``(ram[33] + 4, ram[35] + 38)``;
    on the frames of ale-py 0.12 the black boxer's top-left pixel is one
    to the left and one up (``tests/test_objects.py`` checks it)."""
    ram = [int(v) for v in ram]
    return {'player': Box(ram[32] + 5, ram[34] + 38, 14, 47),
            'enemy': Box(ram[33] + 3, ram[35] + 37, 14, 47)}


# Space Invaders' alien block: six rows of six, 16 pixels apart across
# and 18 down, each alien 8x10; RAM byte 18 + k holds row k counted from
# the bottom, one bit a column, the leftmost alive column at ram[26] - 1.
ALIEN_ROWS = range(18, 24)


def spaceinvaders(ram):
    """The agent's cannon (green; a moving cannon is drawn one pixel
    behind its byte), the block of the aliens still alive (None when none
    is) and the cannon's shot (None while it is not in flight), from
    OCAtari's addresses."""
    ram = [int(v) for v in ram]
    rows = [ram[k] for k in ALIEN_ROWS]
    columns = 0
    for row in rows:
        columns |= row
    aliens = None
    if columns:
        alive = [k for k, row in enumerate(rows) if row]
        top = 31 + 2 * ram[16] + 18 * (5 - max(alive))
        bottom = 31 + 2 * ram[16] + 18 * (5 - min(alive)) + 10
        aliens = Box(ram[26] - 1, top, 16 * (columns.bit_length() - 1) + 8,
                     bottom - top)
    return {'cannon': Box(ram[28] - 1, 185, 7, 10),
            'aliens': aliens,
            # The shot moves fast: its pixels in a step's last two screens
            # lie 3 above to 12 below 2 * ram[85] + 4 (tests measure it).
            'shot': _on_screen(Box(ram[87] - 2, 2 * ram[85], 1, 16), 20,
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
