"""Every pass/fail rule of the faithfulness report, its thresholds and the
sample it needs, in one place (``docs/methods.md``, "How sure a verdict
is", says how the sample sizes were chosen).

A verdict is called only on a sample large enough to call it: under
:data:`MIN_FRAMES` frames the report says "too few frames" instead of
pass or fail, under :data:`MIN_INTERVENTIONS` kept interventions "too few
interventions".
"""
import math

import numpy as np

# A map passes the randomisation check when its correlation with the fully
# randomised network's map is below this and below its cross-frame level.
PASS_SPEARMAN = 0.5
# ... and points at objects with at least this mass ratio on one of them.
PASS_MASS_RATIO = 2.0
# An intervention measure counts as clearly above its random baseline from
# this margin on (follow and vanish are differences of mass ratios, where
# 1 is the mass of a uniform map); a rank agreement from AGREES on.
ABOVE_RANDOM = 0.1
AGREES = 0.3
# The smallest samples a verdict is called on (see docs/methods.md).
MIN_FRAMES = 40
MIN_INTERVENTIONS = 12

TOO_FEW_FRAMES = 'too few frames'
TOO_FEW_INTERVENTIONS = 'too few interventions'

# The terms the report uses, each defined once; report.md lists them.
TERMS = {
    'randomisation check': (
        'the map\'s Spearman correlation with the map of the network whose '
        'every layer was re-initialised is below {} and below the '
        'correlation between maps of different frames of the trained '
        'network (a map that passes depends on what the network '
        'learned)'.format(PASS_SPEARMAN)),
    'mass ratio': (
        'the share of a map\'s mass within the radius of an object\'s '
        'centre over the share of the picture\'s area there; 1 is a map '
        'with no concentration. A map points at objects from a ratio of '
        '{} on one of them'.format(PASS_MASS_RATIO)),
    'hit': 'the map\'s maximum lies on the object',
    'deletion / insertion AUC': (
        'the area under the curve of the output\'s change while the most '
        'salient pixels are blurred away (deletion) or put back into a '
        'blurred frame (insertion); a map beats random when deletion '
        'changes the output more, and insertion restores it sooner, than '
        'random pixel orders do'),
    'KL': 'KL(pi || pi\'), how far the policy moved',
    'follow': (
        'how much of a map\'s concentration moves with an object moved in '
        'RAM (0: ignores the move; ratio - 1: moves with it)'),
    'peak follows': 'the map\'s maximum is on the object before and after '
                    'the move',
    'vanish': (
        'how much of a map\'s concentration on a removed object goes with '
        'it (0: ignores the removal; negative: the hole is marked more '
        'than the object was)'),
    'agreement': (
        'the Spearman correlation, over the interventions, between how '
        'much a map marked the object before it was moved and how much '
        'the move changed the agent (KL); from {} a map "marks most what '
        'changes the agent"'.format(AGREES)),
    'not drawn as asked': (
        'an intervention the game undid or drew elsewhere (the RAM table '
        'does not find the object at the asked place after the step), so '
        'it is left out of every measure'),
    'clearly above random': (
        'a measure that beats its baseline on maps of uniform noise by '
        '{} or more'.format(ABOVE_RANDOM)),
    'too few frames': (
        'fewer than {} frames: the verdicts of the table are not called '
        '(rerun with --frames {} or more)'.format(MIN_FRAMES, MIN_FRAMES)),
    'too few interventions': (
        'fewer than {} kept interventions: the intervention verdicts are '
        'not called'.format(MIN_INTERVENTIONS)),
}


def verdict(metrics, stages, frames):
    """``{'randomization', 'pointing', 'deletion', 'insertion'}`` of one
    map's metrics measured on ``frames`` frames: booleans (``pointing``
    None where no object is known), and ``'called'``: False when
    ``frames`` is under :data:`MIN_FRAMES` (the report then prints
    "too few frames" in place of each)."""
    last = metrics['randomization_spearman'][stages[-1]]
    floor = metrics['cross_frame_spearman']
    randomization = (math.isfinite(last) and last < PASS_SPEARMAN
                     and (not math.isfinite(floor) or last < floor))
    points = None
    if 'pointing' in metrics:
        ratios = [v['mass_ratio'] for k, v in metrics['pointing'].items()
                  if isinstance(v, dict) and 'mass_ratio' in v]
        points = any(r >= PASS_MASS_RATIO for r in ratios
                     if math.isfinite(r))
    return {'randomization': bool(randomization), 'pointing': points,
            # Deletion: the output moves further from the original when the
            # salient pixels go first; insertion: it comes back sooner.
            'deletion': bool(metrics['deletion_auc']
                             > metrics['deletion_auc_random']),
            'insertion': bool(metrics['insertion_auc']
                              < metrics['insertion_auc_random']),
            'frames': int(frames), 'called': frames >= MIN_FRAMES}


def finite(value):
    return value is not None and np.isfinite(value)


def margin_sign(value, baseline):
    """0: clearly above ``baseline``; 2: clearly below; 1: neither."""
    margin = value - baseline
    return 0 if margin >= ABOVE_RANDOM else (
        2 if margin <= -ABOVE_RANDOM else 1)


def intervention_verdict(entry, kept):
    """One sentence on a method's maps under ``kept`` interventions
    (``entry``: the report's ``{'actor': ..., 'critic': ...}`` of one
    method), or "too few interventions" under :data:`MIN_INTERVENTIONS`.
    """
    if kept < MIN_INTERVENTIONS:
        return '{} ({} kept, {} needed).'.format(
            TOO_FEW_INTERVENTIONS, kept, MIN_INTERVENTIONS)
    parts = []
    for map_name in ('actor', 'critic'):
        m = entry[map_name]
        words = []
        for key, words_by_sign in (
                ('follow', ('follows moved objects',
                            'does not follow moved objects',
                            'moves away from moved objects')),
                ('vanish', ('lets go of removed bricks',
                            'does not react to removed bricks',
                            'marks the hole a removed brick leaves more '
                            'than the brick'))):
            if finite(m[key]) and finite(m[key + '_random']):
                words.append('{} ({} vs {} random)'.format(
                    words_by_sign[margin_sign(m[key], m[key + '_random'])],
                    fmt(m[key]), fmt(m[key + '_random'])))
        agreement = m['agreement']
        if finite(agreement):
            words.append('{} what changes the agent (agreement {})'.format(
                'marks most' if agreement >= AGREES else 'does not mark most',
                fmt(agreement)))
        parts.append('{} {}'.format(map_name, ', '.join(words) or
                                    'not measured'))
    return '; '.join(parts) + '.'


def fmt(value, digits=2):
    if value is None or not np.isfinite(value):
        return 'n/a'
    return '{:.{}f}'.format(value, digits)
