"""The report's pass/fail rules, on hand-made measures."""
import math

from evaluation import verdicts
from evaluation.verdicts import (MIN_FRAMES, MIN_INTERVENTIONS,
                                 intervention_verdict, verdict)

STAGES = ['heads', 'fc', 'conv1']


def _metrics(last=0.2, floor=0.4, ratio=None, deletion=(0.5, 0.3),
             insertion=(0.1, 0.3)):
    m = {'randomization_spearman': {'heads': 0.9, 'fc': 0.6, 'conv1': last},
         'cross_frame_spearman': floor,
         'deletion_auc': deletion[0], 'deletion_auc_random': deletion[1],
         'insertion_auc': insertion[0], 'insertion_auc_random': insertion[1]}
    if ratio is not None:
        m['pointing'] = {'ball': {'mass_ratio': ratio, 'hit_rate': 0.5},
                         'chance_hit_rate': 0.01}
    return m


def test_randomisation_passes_below_both_thresholds_only():
    assert verdict(_metrics(), STAGES, 40)['randomization'] is True
    # At or above 0.5: fails, even below the cross-frame floor.
    assert verdict(_metrics(last=0.5, floor=0.9), STAGES, 40)[
        'randomization'] is False
    # Below 0.5 but above the floor between frames: fails.
    assert verdict(_metrics(last=0.3, floor=0.25), STAGES, 40)[
        'randomization'] is False
    # No floor measured (NaN): the 0.5 rule alone.
    assert verdict(_metrics(last=0.3, floor=math.nan), STAGES, 40)[
        'randomization'] is True


def test_pointing_from_a_mass_ratio_of_two():
    assert verdict(_metrics(), STAGES, 40)['pointing'] is None
    assert verdict(_metrics(ratio=2.0), STAGES, 40)['pointing'] is True
    assert verdict(_metrics(ratio=1.99), STAGES, 40)['pointing'] is False


def test_deletion_and_insertion_compare_with_random():
    v = verdict(_metrics(), STAGES, 40)
    assert v['deletion'] is True and v['insertion'] is True
    v = verdict(_metrics(deletion=(0.2, 0.3), insertion=(0.4, 0.3)),
                STAGES, 40)
    assert v['deletion'] is False and v['insertion'] is False


def test_a_verdict_is_called_from_min_frames_on():
    assert verdict(_metrics(), STAGES, MIN_FRAMES)['called'] is True
    small = verdict(_metrics(), STAGES, MIN_FRAMES - 1)
    assert small['called'] is False and small['frames'] == MIN_FRAMES - 1


def _entry(follow, follow_random, agreement):
    one = {'follow': follow, 'follow_random': follow_random,
           'vanish': None, 'vanish_random': None, 'agreement': agreement}
    return {'actor': one, 'critic': dict(one)}


def test_intervention_verdict_words_follow_the_margins():
    n = MIN_INTERVENTIONS
    assert intervention_verdict(_entry(0.5, 0.0, 0.4), n).startswith(
        'actor follows moved objects (0.50 vs 0.00 random), marks most '
        'what changes the agent (agreement 0.40)')
    # Within 0.1 of random: no claim either way.
    assert 'actor does not follow moved objects (0.05 vs 0.00' in \
        intervention_verdict(_entry(0.05, 0.0, 0.1), n)
    assert 'moves away from moved objects' in intervention_verdict(
        _entry(-0.2, 0.0, 0.1), n)
    assert 'does not mark most' in intervention_verdict(
        _entry(0.5, 0.0, 0.29), n)
    assert intervention_verdict(_entry(0.5, 0.0, 0.4), n - 1) == (
        'too few interventions ({} kept, {} needed).'.format(n - 1, n))


def test_every_term_the_report_uses_is_defined():
    for term in ('agreement', 'not drawn as asked', 'mass ratio', 'follow',
                 'vanish', 'too few frames', 'clearly above random'):
        assert verdicts.TERMS[term]
