"""RAM interventions on the real emulator, checked with the pixels."""
import numpy as np
import pytest

from env_gym_chainer import GymEnvironment
from evaluation.interventions import InterventionError, intervene

BALL = (236, 236, 236)


def _ball_pixels(rgb):
    """Bounding box of the ball's pixels inside the court, or None."""
    mask = (rgb[34:194, 8:152] == BALL).all(axis=2)
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return None
    return xs.min() + 8, ys.min() + 34, xs.max() + 8, ys.max() + 34


def test_the_ball_is_drawn_where_it_was_moved_and_the_game_goes_on():
    env = GymEnvironment('PongNoFrameskip-v4', seed=3)
    twin = GymEnvironment('PongNoFrameskip-v4', seed=3)
    env.reset()
    twin.reset()
    rng = np.random.RandomState(0)
    honoured = refused = 0
    for t in range(200):
        action = rng.randint(env.n_actions)
        expected = twin.step(action)[0]
        if t % 5:
            np.testing.assert_array_equal(env.step(action)[0], expected)
            continue
        try:
            outcome = intervene(env, 'pong', 'ball', 8, 6, action)
        except InterventionError:     # the ball is near an edge
            refused += 1
            np.testing.assert_array_equal(env.step(action)[0], expected)
            continue
        # The environment is left as if nothing had been done.
        np.testing.assert_array_equal(outcome.obs, expected)
        if not outcome.honoured:
            continue
        # The last screen of the step is the one the RAM describes.
        before = _ball_pixels(outcome.screen)
        after = _ball_pixels(outcome.moved_screen)
        # Whole balls only (2x4 pixels; partly under a wall, or drawn
        # across a scan-line pair, they look otherwise), as test_objects.
        if before is None or after is None or any(
                (b[2] - b[0] + 1, b[3] - b[1] + 1) != (2, 4)
                for b in (before, after)):
            continue
        assert (after[0] - before[0], after[1] - before[1]) == (8, 6)
        # ... and the pixels are where the RAM table puts them.
        assert abs(after[0] - outcome.moved_box.x) <= 2
        assert abs(after[1] - outcome.moved_box.y) <= 2
        honoured += 1
        # Only the newest stacked frame sees the move.
        changed = (outcome.obs != outcome.moved_obs).any(axis=(1, 2))
        assert changed.tolist() == [False, False, False, True]
    assert honoured >= 10


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
