"""Object positions from the RAM match the pixels of real frames."""
import collections

import numpy as np
import pytest

from evaluation import objects
from env_gym_chainer import FramePreprocessor, GymEnvironment

# Screen colour, rows searched and full size (w, h) of each object. Pong:
# ball, agent's and enemy's paddles; Breakout's ball and paddle share one
# colour (the paddle's rows are 189..192).
PONG = {'ball': ((236, 236, 236), (34, 194), (2, 4)),
        'player': ((92, 186, 92), (34, 194), (4, 16)),
        'enemy': ((213, 130, 74), (34, 194), (4, 16))}
BREAKOUT = {'ball': ((200, 72, 72), (94, 188), (2, 4)),
            'paddle': ((200, 72, 72), (189, 194), (16, 4))}
# Boxing: the white and the black boxer inside the ring (the scores above
# it share their colours); a boxer throwing a punch is wider than 14.
BOXING = {'player': ((214, 214, 214), (30, 182), (14, 47)),
          'enemy': ((0, 0, 0), (30, 182), (14, 47))}


def _pixel_box(rgb, colour, rows):
    mask = (rgb[rows[0]:rows[1], 8:152] == colour).all(axis=2)
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return None
    return xs.min() + 8, ys.min() + rows[0], xs.max() + 8, ys.max() + rows[0]


@pytest.mark.parametrize('env_id,game,colours', [
    ('PongNoFrameskip-v4', 'pong', PONG),
    ('BreakoutNoFrameskip-v4', 'breakout', BREAKOUT),
    ('Boxing-v0', 'boxing', BOXING)])
def test_ram_positions_match_the_pixels(env_id, game, colours):
    env = GymEnvironment(env_id, seed=3, frame_skip=1, noop_max=0,
                         fire_on_new_life='auto')
    env.reset()
    rng = np.random.RandomState(0)
    checked = {name: 0 for name in colours}
    offsets = {name: collections.Counter() for name in colours}
    for _ in range(700):
        env.step(rng.randint(env.n_actions))
        rgb = env.emulator.ale.getScreenRGB()
        found = objects.objects(game, env.ram)
        for name, (colour, rows, size) in colours.items():
            pixels = _pixel_box(rgb, colour, rows)
            # Whole objects only: one half under a border, or touching
            # another of its colour, is skipped.
            if pixels is None or (pixels[2] - pixels[0] + 1,
                                  pixels[3] - pixels[1] + 1) != size:
                continue
            box = found[name]
            assert box is not None, (name, pixels)
            assert (box.w, box.h) == size
            assert abs(box.x - pixels[0]) <= 2, (name, box, pixels)
            assert abs(box.y - pixels[1]) <= 2, (name, box, pixels)
            checked[name] += 1
            offsets[name][box.x - pixels[0], box.y - pixels[1]] += 1
    env.close()
    assert min(checked.values()) > 100, checked
    if game == 'boxing':
        # Most frames agree to the pixel (OCAtari's enemy offsets, one more
        # in x and y, would not).
        for name, counts in offsets.items():
            assert counts.most_common(1)[0][0] == (0, 0), (name, counts)


def test_to_input_follows_the_preprocessing():
    full = FramePreprocessor(84)
    assert objects.to_input((160, 210), full) == (84, 84)
    assert objects.to_input((80, 105), full) == (42, 42)
    cropped = FramePreprocessor(80, crop_rows=(35, 195), gray='mean')
    assert objects.to_input((0, 35), cropped) == (0, 0)
    assert objects.to_input((80, 115), cropped) == (40, 40)
    assert objects.centre(objects.Box(10, 20, 2, 4)) == (11, 22)


def test_space_invaders_positions_match_the_pixels():
    """The alien block's box is the alive aliens' pixels exactly; the
    cannon's is within one pixel (a moving cannon is drawn one behind its
    byte), exactly where it stands still; the shot's column holds its
    pixels in the step's last two screens."""
    env = GymEnvironment('SpaceInvadersNoFrameskip-v4', seed=2,
                         frame_skip=1, noop_max=0)
    env.reset()
    rng = np.random.RandomState(2)
    checked = collections.Counter()
    previous = env.emulator.ale.getScreenRGB()
    for t in range(3000):
        env.step(rng.choice([1, 1, 2, 3, 4, 5]))
        rgb = env.emulator.ale.getScreenRGB()
        found = objects.objects('space_invaders', env.ram)
        if t % 7 == 0:
            aliens = _pixel_box(rgb, (134, 134, 29), (30, 180))
            if aliens is not None:
                box = found['aliens']
                assert (box.x, box.y, box.x + box.w - 1,
                        box.y + box.h - 1) == aliens, t
                checked['aliens'] += 1
            cannon = _pixel_box(rgb, (50, 132, 50), (180, 196))
            if cannon is not None:
                box = found['cannon']
                assert abs(box.x - cannon[0]) <= 1 and box.y == cannon[1]
                assert cannon[3] - cannon[1] + 1 == box.h
                assert cannon[2] - cannon[0] + 1 in (box.w, box.w + 1)
                checked['cannon', box.x == cannon[0]] += 1
            shot = found['shot']
            if shot is not None:
                column = (np.maximum(rgb, previous)[:, shot.x]
                          == (142, 142, 142)).all(axis=1)
                assert column[shot.y:shot.y + shot.h].any(), t
                checked['shot'] += 1
        previous = rgb
    env.close()
    assert checked['aliens'] > 100 and checked['shot'] > 20, checked
    assert checked['cannon', True] > checked['cannon', False] > 10, checked
