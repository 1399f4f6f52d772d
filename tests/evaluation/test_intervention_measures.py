"""The intervention measures on maps whose answer is known."""
import chainer
import chainer.functions as F
import numpy as np
import pytest
from scipy.stats import spearmanr

from evaluation import intervention_measures as im

SIZE = 24


def _blob(centre, size=SIZE):
    """A bright 3x3 square at ``centre`` ``(column, row)`` on black."""
    x = np.zeros((size, size), np.float32)
    c, r = int(centre[0]), int(centre[1])
    x[r - 1:r + 2, c - 1:c + 2] = 1.0
    return x


def _gradient_map(image):
    """Input gradient of a tiny network whose answer is known: its output
    is the sum of ``relu(x - 0.5)``, so it reads the blob, wherever it
    is, and nothing else."""
    x = chainer.Variable(image[None])
    y = F.sum(F.relu(x - 0.5))
    grad, = chainer.grad([y], [x])
    return np.abs(grad.array[0])


def test_a_map_of_a_network_that_reads_the_blob_follows_it():
    old, new = (6.5, 7.5), (16.5, 15.5)
    before = _gradient_map(_blob(old))
    after = _gradient_map(_blob(new))
    # All of the map's mass is on the 3x3 blob: its ratio in a disk of
    # radius 2 (13 pixels, all of them blob or black) is 576 / 13.
    assert im.mass_ratio(before, old, 2) == pytest.approx(SIZE ** 2 / 13,
                                                          rel=1e-6)
    assert im.follow(before, after, old, new, 2) == pytest.approx(
        SIZE ** 2 / 13, rel=1e-6)
    assert im.peak_follow(before, after, old, new, 2)
    # A map that stays where it was does not follow.
    assert im.follow(before, before, old, new, 2) == 0
    assert not im.peak_follow(before, before, old, new, 2)


def test_a_map_of_a_removed_blob_lets_go_of_it():
    old = (6.5, 7.5)
    before = _gradient_map(_blob(old))
    # The blob is gone: the network reads nothing, its gradient is 0 and
    # the map is empty. A map of uniform mass is what a method shows then.
    assert not _gradient_map(np.zeros((SIZE, SIZE), np.float32)).any()
    after = np.ones((SIZE, SIZE))
    assert im.vanish(before, after, old, 2) == pytest.approx(
        SIZE ** 2 / 13 - 1, rel=1e-6)
    assert im.vanish(before, before, old, 2) == 0
    rng = np.random.RandomState(1)
    noise = im.random_maps(rng, 400, (SIZE, SIZE))
    assert abs(np.mean([im.vanish(a, b, old, 3)
                        for a, b in zip(noise[::2], noise[1::2])])) < 0.03


def test_random_maps_do_not_follow():
    rng = np.random.RandomState(0)
    maps = im.random_maps(rng, 400, (SIZE, SIZE))
    old, new = (6.5, 7.5), (16.5, 15.5)
    pairs = list(zip(maps[::2], maps[1::2]))
    follows = [im.follow(a, b, old, new, 3) for a, b in pairs]
    peaks = [im.peak_follow(a, b, old, new, 3) for a, b in pairs]
    assert abs(np.mean(follows)) < 0.03
    assert np.mean(peaks) < 0.03     # chance: (29 / 576) ** 2, 0.0025


def test_effect_by_hand():
    ref, moved = np.array([2.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    out = im.effect(ref, moved, 0.5, -0.25)
    p = np.exp(ref) / np.exp(ref).sum()
    q = np.exp(moved) / np.exp(moved).sum()
    assert out['kl'] == pytest.approx((p * np.log(p / q)).sum())
    assert out['action_changed'] is True
    assert out['value_change'] == pytest.approx(0.75)
    same = im.effect(ref, ref, 0.5, 0.5)
    assert same == {'kl': 0.0, 'action_changed': False, 'value_change': 0.0}


def test_agreement_is_spearman_over_the_finite_pairs():
    marked = np.array([1.0, 3.0, 2.0, np.nan, 5.0, 4.0])
    effects = np.array([0.1, 0.2, 0.5, 9.0, 0.7, 0.3])
    keep = np.isfinite(marked)
    expected = spearmanr(marked[keep], effects[keep]).correlation
    assert im.agreement(marked, effects) == pytest.approx(expected)
    assert np.isnan(im.agreement([1.0, 2.0], [3.0, 4.0]))
