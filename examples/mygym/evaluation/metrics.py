"""Checks of whether a saliency map reflects what the network uses.

Three families, each a plain function of maps, models and frames (the
report of :mod:`faithfulness` puts them together):

* **Model randomisation** (Adebayo et al. 2018, cascading):
  :func:`layer_groups` names a network's layers from the output down,
  :func:`randomization_cascade` re-initialises them one group more at a
  time from a freshly built network of the same architecture (so with the
  model's own initialisers and a fixed seed), and :func:`spearman_pairs` /
  :func:`cross_frame_spearman` compare maps by the rank correlation of their
  pixels.
* **Deletion and insertion** (Petsiuk et al. 2018, as Huber et al. 2022
  use them on Atari): :func:`deletion_insertion` removes the most salient
  pixels first, 5% at a time, into a blurred copy of the input (every
  stacked frame), or inserts them into the blurred copy, and scores each
  step; :func:`auc` is the area under such a curve.
* **Pointing** at objects whose positions the emulator's RAM gives
  (:mod:`objects`): :func:`pointing` reports the saliency mass near each
  object over the area near it, and how often the map's maximum lands
  there, beside the chance of that.
"""
import collections
import copy

import numpy as np
from scipy.stats import rankdata

from saliency.scoring import blur_frames, log_softmax, score_masked

# Blur of the deleted pixels' fill (as Greydanus' perturbation).
BLUR_SIGMA = 3


def layer_groups(model):
    """``{name: [links]}`` of ``model``'s layers, from the output down, read
    from its :class:`networks.Structure`: ``heads`` (policy and value
    outputs), the cell (``lstm`` or ``gru``) if any, the dense layers
    (``fc``, or ``fc2``, ``fc1`` for several), then ``convK`` ..
    ``conv1``."""
    st = model.structure
    groups = collections.OrderedDict(
        heads=[link for link in (st.policy, st.value) if link is not None])
    if st.cell:
        groups[st.cell] = [st.cell_link]
    for i in range(len(st.dense), 0, -1):
        groups['fc' if len(st.dense) == 1 else 'fc%d' % i] = [
            st.dense[i - 1]]
    for i in range(len(st.convs), 0, -1):
        groups['conv%d' % i] = [st.convs[i - 1]]
    return groups


def randomized(model, fresh, names):
    """A copy of ``model`` whose layer groups ``names`` hold the weights of
    ``fresh`` (a newly initialised network of the same architecture); every
    other parameter is the model's."""
    out = copy.deepcopy(model)
    targets, sources = layer_groups(out), layer_groups(fresh)
    unknown = set(names) - set(targets)
    if unknown:
        raise KeyError('no layer group {} in this network (it has {})'
                       .format(', '.join(sorted(unknown)),
                               ', '.join(targets)))
    for name in names:
        for target, source in zip(targets[name], sources[name]):
            got = dict(source.namedparams())
            for path, param in target.namedparams():
                param.array[...] = got[path].array
    out.weights_changed()
    return out


def fresh_model(make_model, seed):
    """``make_model()`` with NumPy's global generator (which Chainer's
    initialisers draw from) seeded with ``seed``; the generator's state is
    put back afterwards."""
    saved = np.random.get_state()
    try:
        np.random.seed(seed)
        return make_model()
    finally:
        np.random.set_state(saved)


def randomization_cascade(model, fresh):
    """``[(stage, model)]``: the first stage re-initialises the output
    heads, each next one also the next layer down, the last every layer."""
    names = list(layer_groups(model))
    return [(name, randomized(model, fresh, names[:i + 1]))
            for i, name in enumerate(names)]


def _standard_ranks(maps):
    """Rows of pixel ranks (ties averaged), centred and scaled so that the
    dot product of two rows is their Spearman correlation (NaN for a
    constant map)."""
    maps = np.asarray(maps, dtype=np.float64).reshape(len(maps), -1)
    ranks = rankdata(maps, axis=1)
    ranks -= ranks.mean(axis=1, keepdims=True)
    norm = np.sqrt((ranks ** 2).sum(axis=1, keepdims=True))
    with np.errstate(invalid='ignore', divide='ignore'):
        return ranks / norm


def spearman_pairs(a, b):
    """Spearman correlation of ``a[i]`` with ``b[i]`` for each ``i``
    (``(n, H, W)`` each); NaN where a map is constant."""
    return (_standard_ranks(a) * _standard_ranks(b)).sum(axis=1)


def cross_frame_spearman(maps):
    """Mean Spearman correlation between the maps of different frames
    (every pair; constant maps left out)."""
    ranks = _standard_ranks(maps)
    ranks = ranks[np.isfinite(ranks).all(axis=1)]
    if len(ranks) < 2:
        return float('nan')
    corr = ranks @ ranks.T
    n = len(ranks)
    return float((corr.sum() - np.trace(corr)) / (n * (n - 1)))


def ssim_pairs(a, b):
    """Structural similarity of ``a[i]`` and ``b[i]``, each map scaled to
    [0, 1] by its own maximum (NaN where one is all zero)."""
    from skimage.metrics import structural_similarity
    out = []
    for x, y in zip(a, b):
        if x.max() <= 0 or y.max() <= 0:
            out.append(float('nan'))
            continue
        out.append(structural_similarity(
            x / x.max(), y / y.max(), data_range=1.0))
    return np.array(out)


def salient_order(saliency_map, rng):
    """Pixel indices (flat), most salient first; ties in random order."""
    flat = np.asarray(saliency_map, dtype=np.float64).ravel()
    return np.lexsort((rng.random_sample(flat.size), -flat))


def blurred(state):
    """The fill of deleted pixels: each stacked frame of ``(C, H, W)``
    blurred with sigma :data:`BLUR_SIGMA`."""
    return blur_frames(state, BLUR_SIGMA)


def deletion_insertion_masks(order, shape, steps=20):
    """Keep masks ``[steps + 1, H, W]`` of deletion (the first ``k/steps``
    of ``order`` removed) and of insertion (only they kept), k = 0..steps.
    """
    size = shape[0] * shape[1]
    counts = np.rint(np.arange(steps + 1) * size / steps).astype(int)
    position = np.empty(size, dtype=np.int64)
    position[order] = np.arange(size)
    inserted = (position[None] < counts[:, None]).astype(np.float32)
    inserted = inserted.reshape(steps + 1, *shape)
    return 1 - inserted, inserted


def curve_scores(ref_scores, ref_value, action, scores, values):
    """What each step of a curve scores: ``kl`` = KL(pi_ref || pi),
    ``prob`` = pi(action), ``value`` = |V - V_ref|, each ``(n,)``."""
    ref, log_probs = log_softmax(ref_scores), log_softmax(scores)
    kl = (np.exp(ref) * (ref - log_probs)).sum(axis=1)
    return {'kl': kl, 'prob': np.exp(log_probs[:, action]),
            'value': np.abs(np.asarray(values, np.float64) - ref_value)}


def deletion_insertion(model, state, orders, action, recurrent_state=None,
                       steps=20, chunk=64, device='cpu', scoring='auto'):
    """Deletion and insertion curves of ``state`` ``(C, H, W)`` for each
    pixel ordering in ``orders`` (``chunk``, ``device``, ``scoring`` as
    :func:`saliency.scoring.score_masked`'s).

    Returns ``{'deletion': {score: (len(orders), steps + 1)},
    'insertion': {...}}`` with the scores of :func:`curve_scores`; one
    batched scoring for all orderings (actor and critic from the same
    pass).
    """
    state = np.asarray(state, dtype=np.float32)
    fill = blurred(state)
    keeps = [deletion_insertion_masks(order, state.shape[1:], steps)
             for order in orders]
    keep = np.concatenate([k for pair in keeps for k in pair])
    ref_scores, ref_values = score_masked(
        model, state, np.ones((1,) + state.shape[1:], np.float32), fill,
        recurrent_state, device=device, scoring='dense')
    scores, values = score_masked(model, state, keep, fill, recurrent_state,
                                  chunk, device, scoring)
    measured = curve_scores(ref_scores[0], float(ref_values[0]), action,
                            scores, values)
    out = {'deletion': {}, 'insertion': {}}
    for name, series in measured.items():
        series = series.reshape(len(orders), 2, steps + 1)
        out['deletion'][name] = series[:, 0]
        out['insertion'][name] = series[:, 1]
    return out


def auc(curve):
    """Area under a curve sampled at evenly spaced fractions 0..1 (the
    trapezoidal rule); the last axis is the curve."""
    curve = np.asarray(curve, dtype=np.float64)
    steps = curve.shape[-1] - 1
    return (curve[..., 1:] + curve[..., :-1]).sum(axis=-1) / (2 * steps)


def disk(shape, centre, radius):
    """Boolean ``(H, W)`` mask of the pixels whose centres lie within
    ``radius`` of ``centre`` ``(column, row)`` (pixel (r, c) is centred at
    (c + 0.5, r + 0.5))."""
    rows, cols = np.mgrid[:shape[0], :shape[1]]
    x, y = centre
    return (cols + 0.5 - x) ** 2 + (rows + 0.5 - y) ** 2 <= radius ** 2


def mass_ratio_in(saliency_map, near, total=None):
    """The map's share of mass within the boolean mask ``near`` over the
    share of area there (1: no concentration); NaN for an empty map or
    mask. The one definition of the mass ratio (pointing, interventions).
    """
    total = saliency_map.sum() if total is None else total
    area = near.mean()
    if not total > 0 or area == 0:
        return float('nan')
    return float(saliency_map[near].sum() / total / area)


def mass_ratio(saliency_map, centre, radius):
    """:func:`mass_ratio_in` of the disk of ``radius`` around ``centre``.
    """
    saliency_map = np.asarray(saliency_map, dtype=np.float64)
    return mass_ratio_in(saliency_map,
                         disk(saliency_map.shape, centre, radius))


def pointing(maps, positions, radius):
    """Whether maps concentrate on, and peak at, the objects.

    Args:
        maps: ``(n, H, W)`` maps >= 0.
        positions: per map, ``{object: (column, row) or None}`` in the
            maps' pixel coordinates (None: not on the screen).
        radius (float): pixels around an object's centre that count as on
            it.

    Returns:
        ``{object: {'mass_ratio', 'hit_rate', 'chance_hit_rate',
        'frames'}, 'any': {'hit_rate', 'frames'}, 'chance_hit_rate'}``:
        the mass ratio is the map's share of mass within ``radius`` over
        the share of area there (1: no concentration), averaged over the
        frames where the object is on screen; the hit rate is how often the
        map's maximum lies within ``radius``, its chance level the share of
        area; ``any`` counts a hit on any object, its chance the share of
        the area near any of them. NaN where no frame qualifies.
    """
    maps = np.asarray(maps, dtype=np.float64)
    shape = maps.shape[1:]
    names = sorted({name for frame in positions for name in frame})
    found = {name: {'ratio': [], 'hit': [], 'area': []} for name in names}
    any_hits, any_area = [], []
    for saliency_map, frame in zip(maps, positions):
        total = saliency_map.sum()
        if not total > 0:
            continue
        peak = np.unravel_index(np.argmax(saliency_map), shape)
        union = np.zeros(shape, dtype=bool)
        for name, centre in frame.items():
            if centre is None:
                continue
            near = disk(shape, centre, radius)
            area = near.mean()
            if area == 0:
                continue
            union |= near
            found[name]['ratio'].append(mass_ratio_in(saliency_map, near,
                                                      total))
            found[name]['hit'].append(bool(near[peak]))
            found[name]['area'].append(area)
        if union.any():
            any_hits.append(bool(union[peak]))
            any_area.append(union.mean())

    def mean(values):
        return float(np.mean(values)) if values else float('nan')

    out = {name: {'mass_ratio': mean(f['ratio']), 'hit_rate': mean(f['hit']),
                  'chance_hit_rate': mean(f['area']),
                  'frames': len(f['hit'])}
           for name, f in found.items()}
    out['any'] = {'hit_rate': mean(any_hits), 'frames': len(any_hits)}
    out['chance_hit_rate'] = mean(any_area)
    return out
