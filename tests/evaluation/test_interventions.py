"""RAM interventions on the real emulator, checked with the pixels."""
import numpy as np
import pytest

from env_gym_chainer import GymEnvironment
from evaluation import interventions as iv
from evaluation.interventions import InterventionError, intervene
from test_objects import _pixel_box   # the same pixel search

# Game, env id, object, offset, its colour, the rows searched and its
# whole size (w, h), as tests/evaluation/test_objects.py finds them.
CASES = [
    ('pong', 'PongNoFrameskip-v4', 'ball', (8, 6), (236, 236, 236),
     (34, 194), (2, 4)),
    ('breakout', 'BreakoutNoFrameskip-v4', 'ball', (6, 6), (200, 72, 72),
     (94, 188), (2, 4)),
    ('boxing', 'BoxingNoFrameskip-v4', 'enemy', (10, -8), (0, 0, 0),
     (30, 182), (14, 47)),
    ('boxing', 'BoxingNoFrameskip-v4', 'player', (10, -8),
     (214, 214, 214), (30, 182), (14, 47)),
    ('space_invaders', 'SpaceInvadersNoFrameskip-v4', 'aliens', (6, 6),
     (134, 134, 29), (30, 180), (88, 100)),
    ('space_invaders', 'SpaceInvadersNoFrameskip-v4', 'cannon', (8, 0),
     (50, 132, 50), (180, 196), (7, 10)),
]


def _beside_a_twin(env_id, seed, steps, every=5):
    """A random game played beside a twin that no one touches: yields
    ``(env, action, expected)`` at every ``every``-th step for the caller
    to play (``expected``: the twin's observation); plays the other steps
    itself and checks that ``env`` still sees what the twin sees."""
    env = GymEnvironment(env_id, seed=seed, fire_on_new_life='auto')
    twin = GymEnvironment(env_id, seed=seed, fire_on_new_life='auto')
    env.reset()
    twin.reset()
    rng = np.random.RandomState(0)
    for t in range(steps):
        action = rng.randint(env.n_actions)
        expected = twin.step(action)[0]
        if t % every:
            np.testing.assert_array_equal(env.step(action)[0], expected)
        else:
            yield env, action, expected


@pytest.mark.parametrize('game,env_id,name,offset,colour,rows,size', CASES)
def test_an_object_is_drawn_where_it_was_moved_and_the_game_goes_on(
        game, env_id, name, offset, colour, rows, size):
    checked = 0
    for env, action, expected in _beside_a_twin(env_id, 3, 150):
        try:
            outcome = intervene(env, game, name, *offset, action)
        except InterventionError:     # the object is near an edge
            np.testing.assert_array_equal(env.step(action)[0], expected)
            continue
        # The environment is left as if nothing had been done.
        np.testing.assert_array_equal(outcome.obs, expected)
        if not outcome.honoured:
            continue
        # The last screen of the step is the one the RAM describes; whole
        # objects only (partly under a border, or drawn over another of
        # their colour, they look otherwise).
        before = _pixel_box(outcome.screen, colour, rows)
        after = _pixel_box(outcome.moved_screen, colour, rows)
        if before is None or after is None or any(
                (b[2] - b[0] + 1, b[3] - b[1] + 1) != size
                for b in (before, after)):
            continue
        assert (after[0] - before[0], after[1] - before[1]) == offset
        # ... and the pixels are where the RAM table puts them.
        assert abs(after[0] - outcome.moved_box.x) <= 2
        assert abs(after[1] - outcome.moved_box.y) <= 2
        # Only the newest stacked frame sees the move.
        changed = (outcome.obs != outcome.moved_obs).any(axis=(1, 2))
        assert changed.tolist() == [False, False, False, True]
        checked += 1
    assert checked >= 3


def test_bad_interventions_are_refused_before_anything_is_played():
    env = GymEnvironment('PongNoFrameskip-v4', seed=3)
    env.reset()
    ram = env.ram.copy()
    with pytest.raises(InterventionError, match="no RAM table for 'tennis'"):
        intervene(env, 'tennis', 'ball', 1, 0, 0)
    with pytest.raises(InterventionError, match="no object 'puck'"):
        intervene(env, 'pong', 'puck', 1, 0, 0)
    with pytest.raises(InterventionError, match='moves only vertically'):
        intervene(env, 'pong', 'player', 3, 0, 0)
    with pytest.raises(InterventionError, match='off the screen'):
        intervene(env, 'pong', 'player', 0, 400, 0)
    np.testing.assert_array_equal(env.ram, ram)
    invaders = GymEnvironment('SpaceInvadersNoFrameskip-v4', seed=3)
    invaders.reset()
    with pytest.raises(InterventionError, match='steps of 1 pixel'):
        intervene(invaders, 'space_invaders', 'aliens', 0, 3, 0)
    sticky = GymEnvironment('Boxing-v0', seed=3)
    sticky.reset()
    with pytest.raises(InterventionError, match='without sticky actions'):
        intervene(sticky, 'boxing', 'enemy', 1, 0, 0)


@pytest.mark.parametrize('env_id,game,name', [
    ('PongNoFrameskip-v4', 'pong', 'player'),
    ('BreakoutNoFrameskip-v4', 'breakout', 'paddle')])
def test_a_move_the_game_undoes_is_reported_not_honoured(env_id, game,
                                                         name):
    env = GymEnvironment(env_id, seed=3, fire_on_new_life='auto')
    env.reset()
    rng = np.random.RandomState(0)
    asked = 0
    for t in range(60):
        action = rng.randint(env.n_actions)
        try:
            outcome = intervene(env, game, name,
                                *((0, 12) if game == 'pong' else (-20, 0)),
                                action)
        except InterventionError:
            env.step(action)
            continue
        asked += 1
        assert not outcome.honoured
    assert asked >= 5


def test_the_wall_table_names_every_brick_cell_once():
    assert len(iv.WALL_BITS) == 36 * 6
    assert len(set(iv.WALL_BITS.values())) == 36 * 6
    # A new game's wall: every cell standing, every cell lit where its box
    # says, and the wall's band between the side walls dark outside them.
    env = GymEnvironment('BreakoutNoFrameskip-v4', seed=0)
    env.reset()
    assert len(iv.bricks(env.ram)) == 36 * 6
    lit = env.screen.any(axis=-1)
    wall = np.zeros_like(lit)
    for cell in iv.WALL_BITS:
        box = iv.brick_box(*cell)
        wall[box.y:box.y + box.h, box.x:box.x + box.w] = True
    band = (slice(iv.WALL['y'] - 6, iv.WALL['y'] + 7 * iv.WALL['h']),
            slice(iv.WALL['x'], iv.WALL['x'] + 36 * iv.WALL['w']))
    np.testing.assert_array_equal(lit[band], wall[band])


def test_a_removed_brick_goes_dark_and_only_it():
    honoured = 0
    for env, action, expected in _beside_a_twin('BreakoutNoFrameskip-v4', 1,
                                                60):
        cell = iv.brick_below(env.ram)
        outcome = iv.remove_brick(env, *cell, action)
        np.testing.assert_array_equal(outcome.obs, expected)
        box = outcome.box
        assert box == iv.brick_box(*cell) and outcome.moved_box is None
        if not outcome.honoured:
            continue
        honoured += 1
        inside = (slice(box.y, box.y + box.h), slice(box.x, box.x + box.w))
        assert outcome.screen[inside].any(axis=-1).all()
        assert not outcome.moved_screen[inside].any()
        differs = (outcome.screen != outcome.moved_screen).any(axis=-1)
        ys, xs = np.nonzero(differs)
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (
            box.x, box.y, box.x + box.w, box.y + box.h)
        changed = (outcome.obs != outcome.moved_obs).any(axis=(1, 2))
        assert changed.tolist() == [False, False, False, True]
    assert honoured >= 8
    with pytest.raises(InterventionError, match='already gone'):
        cell = iv.brick_below(env.ram)
        address, bit = iv.WALL_BITS[cell]
        env.set_ram(address, int(env.ram[address]) & ~(1 << bit))
        iv.remove_brick(env, *cell, 0)
    with pytest.raises(InterventionError, match='no wall cell'):
        iv.remove_brick(env, 36, 0, 0)
    with pytest.raises(InterventionError, match='no wall of bricks'):
        iv.apply(env, 'pong', 'brick', (0, 0), 0)
