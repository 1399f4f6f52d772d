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


GAMES = {'pong': pong, 'breakout': breakout, 'boxing': boxing}


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
