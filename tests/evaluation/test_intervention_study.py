"""Interventions while the shipped Pong agent plays, measured."""
import os

import chainer
import numpy as np
import pytest

from agents import load_agent
from evaluation.intervention_study import measure, play_interventions
from evaluation.interventions import InterventionError
from saliency import make_saliency

PRETRAINED = os.path.join(os.path.dirname(__file__), '..', '..', 'examples',
                          'mygym', 'pretrained')
PONG = os.path.join(PRETRAINED, 'pong')


def test_guided_maps_follow_the_moved_ball_and_noise_does_not():
    agent, info = load_agent(PONG)
    records, counts = play_interventions(agent, info, 'PongNoFrameskip-v4',
                                         120, 4, seed=0)
    # Every 4th step of 120 asks for one move; each is kept or counted.
    assert list(counts) == ['ball']           # paddles move only up/down
    assert sum(counts['ball'].values()) == 30
    assert counts['ball']['kept'] == len(records) >= 10
    first = records[0]
    assert first['obs'].shape == first['moved_obs'].shape == (4, 84, 84)
    # The move, in the input's pixels: (8, 6) screen pixels scaled by 84/160
    # and 84/210.
    dx, dy = np.subtract(first['new'], first['old'])
    assert dx == pytest.approx(8 * 84 / 160) and dy == pytest.approx(
        6 * 84 / 210)
    with chainer.using_config('train', False):
        report = measure(make_saliency('guided'), agent.model, records, 5,
                         np.random.RandomState(0))
    assert report['interventions'] == len(records)
    for m in ('actor', 'critic'):
        assert report[m]['follow'] > 0.3
        assert abs(report[m]['follow_random']) < 0.1
        assert report[m]['peak_follow'] > report[m]['peak_follow_random']
        # No removal in Pong: vanish is not measured.
        assert np.isnan(report[m]['vanish'])
    assert 0 < report['effect']['kl'] and 0 < report['effect']['value_change']
    assert report['effect']['by_object']['ball'] == {
        k: report['effect'][k] for k in ('kl', 'action_changed',
                                         'value_change')}
    assert len(report['maps']) == len(report['kl']) == len(records)
    assert report['maps'][0]['actor'][0].shape == (84, 84)


def test_breakout_moves_the_ball_and_removes_bricks():
    agent, info = load_agent(os.path.join(PRETRAINED, 'breakout-lstm'))
    records, counts = play_interventions(
        agent, info, 'BreakoutNoFrameskip-v4', 48, 3, seed=0)
    assert list(counts) == ['ball', 'brick']      # the paddle is redrawn
    assert sum(sum(c.values()) for c in counts.values()) == 16
    bricks = [r for r in records if r['object'] == 'brick']
    assert len(bricks) == counts['brick']['kept'] >= 4
    assert all(r['new'] is None for r in bricks)
    with chainer.using_config('train', False):
        report = measure(make_saliency('guided'), agent.model, records, 5,
                         np.random.RandomState(0))
    for m in ('actor', 'critic'):
        assert np.isfinite(report[m]['vanish'])
        assert np.isfinite(report[m]['vanish_random'])
    assert set(report['effect']['by_object']) == {
        r['object'] for r in records}


def test_a_game_without_a_ram_table_is_refused():
    agent, info = load_agent(PONG)
    with pytest.raises(InterventionError, match='no RAM table'):
        play_interventions(agent, info, 'TennisNoFrameskip-v4', 10, 2,
                           seed=0)
