"""What an intervention says about a saliency map (docs/methods.md).

For a map of the frame before an object was moved (``before``) and of the
frame after (``after``), with the object's centre at ``old`` and ``new``
(input pixels, ``(column, row)``) and ``radius`` the pixels that count as
on it:

* :func:`follow`: how much of the map's concentration moves with the
  object: half of (the gain of the mass ratio at ``new``) plus (its loss at
  ``old``); 0 for a map that ignores the move, positive when the mass
  moves along, about ``mass ratio - 1`` for a map that follows exactly.
* :func:`peak_follow`: whether the map's peak sits on the object both
  before and after (it moved with it).
* :func:`vanish`: for an object removed (a Breakout brick), how much the
  map's concentration on it drops: the mass ratio at ``old`` before minus
  after; about 0 for a map that ignores the removal.
* :func:`effect`: what the move did to the agent: KL divergence of the
  policies, whether the most probable action changed, the value's change.
* :func:`agreement`: over many interventions, the Spearman correlation
  between how much a method marked the object before it moved and how
  much moving it changed the agent.

:func:`random_maps` draws the maps of the random baseline, measured by the
same functions.
"""
import numpy as np

from evaluation.metrics import disk, mass_ratio, spearman_pairs
from saliency.scoring import log_softmax


def follow(before, after, old, new, radius):
    """See the module: > 0 when the map's mass moves with the object."""
    gain = mass_ratio(after, new, radius) - mass_ratio(before, new, radius)
    loss = mass_ratio(before, old, radius) - mass_ratio(after, old, radius)
    return 0.5 * (gain + loss)


def vanish(before, after, old, radius):
    """See the module: > 0 when the map's mass leaves a removed object."""
    return mass_ratio(before, old, radius) - mass_ratio(after, old, radius)


def _peak_on(saliency_map, centre, radius):
    saliency_map = np.asarray(saliency_map)
    peak = np.unravel_index(np.argmax(saliency_map), saliency_map.shape)
    return bool(disk(saliency_map.shape, centre, radius)[peak])


def peak_follow(before, after, old, new, radius):
    """Whether the peak is on the object at ``old`` before and at ``new``
    after."""
    return _peak_on(before, old, radius) and _peak_on(after, new, radius)


def effect(ref_scores, scores, ref_value, value):
    """``{'kl', 'action_changed', 'value_change'}`` of one intervention:
    ``KL(pi || pi')`` of the policies from the action scores (logits)
    before and after, whether the most probable action changed, and
    ``|V' - V|``."""
    ref, moved = log_softmax(ref_scores), log_softmax(scores)
    return {'kl': float((np.exp(ref) * (ref - moved)).sum()),
            'action_changed': bool(np.argmax(ref) != np.argmax(moved)),
            'value_change': float(abs(value - ref_value))}


def agreement(marked, effects):
    """Spearman correlation of ``marked`` (per intervention, how much the
    map marked the object before it moved, e.g. its mass ratio there) and
    ``effects`` (how much the move changed the agent); NaN with fewer than
    three finite pairs or no spread."""
    marked = np.asarray(marked, dtype=np.float64)
    effects = np.asarray(effects, dtype=np.float64)
    keep = np.isfinite(marked) & np.isfinite(effects)
    if keep.sum() < 3:
        return float('nan')
    return float(spearman_pairs(marked[keep][None], effects[keep][None])[0])


def random_maps(rng, n, shape):
    """``n`` maps of independent uniform noise, the random baseline."""
    return rng.random_sample((n,) + tuple(shape))
