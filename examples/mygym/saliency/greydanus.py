"""Greydanus et al. 2018: Gaussian blobs of blur, and scores of the action.

``F = blur(I, sigma=3)`` (each frame blurred), ``K = 1 - M`` with ``M`` a
Gaussian blob (a disk of radius 1 at a grid point, blurred with sigma
``radius``, peak 1) on a grid of stride ``stride``, i.e. the paper's
``I * (1 - M) + blur(I) * M``. The score of a mask is
``0.5 * ||L(I) - L(I')||^2`` with ``L`` the actor's logits or the critic's
value; the grid of scores is interpolated bilinearly onto the ``(H, W)``
input (grid point ``(i, j)`` sits at pixel ``(i * stride, j * stride)``; no
zero border). :class:`ActionSaliency` scores the same blobs by what they do
to the chosen action (SARFA, log-probability) and to the value.
"""
import itertools

import numpy as np
from scipy.ndimage import gaussian_filter

from kernels.resample import grid_matrix
from saliency.scoring import PerturbationSaliency, blur_frames, log_softmax


def blob_masks(shape, radius=5, stride=5):
    """Greydanus' perturbation blobs ``M``: ``[n, H, W]`` float32, peak 1.

    One blob per grid point ``(y, x)`` with ``y`` in ``0, stride, ... < H``
    and ``x`` likewise, row-major. Returns ``(masks, (n_rows, n_cols))``.
    """
    height, width = shape
    ys, xs = np.arange(0, height, stride), np.arange(0, width, stride)
    yy, xx = np.mgrid[:height, :width]
    masks = np.empty((len(ys) * len(xs), height, width), dtype=np.float32)
    for k, (y, x) in enumerate(itertools.product(ys, xs)):
        disk = ((yy - y) ** 2 + (xx - x) ** 2 <= 1).astype(np.float64)
        blob = gaussian_filter(disk, sigma=radius)
        masks[k] = blob / blob.max()
    return masks, (len(ys), len(xs))


class GreydanusSaliency(PerturbationSaliency):
    """Gaussian-blob blur perturbation of Greydanus et al. 2018.

    Args:
        radius (float): sigma of the blob (the paper's r, default 5).
        stride (int): grid spacing in pixels (the paper's d, default 5).
        blur_sigma (float): sigma of the blurred fill (default 3).
        chunk, device, scoring: as :class:`PerturbationSaliency`.
    """

    def __init__(self, radius=5, stride=5, blur_sigma=3, chunk=64,
                 device='cpu', scoring='auto'):
        super().__init__(chunk, device, scoring)
        self.radius = radius
        self.stride = stride
        self.blur_sigma = blur_sigma
        self._cache = {}

    def _grid(self, shape):
        if shape not in self._cache:
            blobs, grid = blob_masks(shape, self.radius, self.stride)
            self._cache[shape] = (
                1.0 - blobs, grid,
                grid_matrix(grid[0], self.stride, shape[0]),
                grid_matrix(grid[1], self.stride, shape[1]))
        return self._cache[shape]

    def masks_and_fill(self, state):
        keep = self._grid(state.shape[1:])[0]
        fill = blur_frames(state, self.blur_sigma)
        return keep, fill

    def maps(self, ref_scores, ref_value, scores, values, keep):
        _, grid, rows, cols = self._grid(keep.shape[1:])
        actor = 0.5 * ((scores - ref_scores) ** 2).sum(axis=1)
        critic = 0.5 * (values - ref_value) ** 2
        return (rows @ actor.reshape(grid) @ cols.T,
                rows @ critic.reshape(grid) @ cols.T)


def chosen_action_change(ref_scores, scores):
    """How the perturbed policies move the most probable action ``a*``:
    ``log pi(a*) - log pi'(a*)`` per perturbed input (positive where the
    perturbation makes the action less likely)."""
    ref = log_softmax(ref_scores)
    best = int(np.argmax(ref))
    return ref[best] - log_softmax(scores)[:, best]


def sarfa(ref_scores, scores):
    """SARFA saliency (Puri et al. 2020) of the most probable action per
    perturbed input: ``2 K dp / (K + dp)`` where the perturbation lowers
    the action's probability by ``dp > 0``, else 0, with specificity
    ``K = 1 / (1 + KL(P_rest || P'_rest))`` over the other actions'
    renormalised probabilities."""
    ref = np.exp(log_softmax(ref_scores))
    probs = np.exp(log_softmax(scores))
    best = int(np.argmax(ref))
    drop = ref[best] - probs[:, best]
    rest = np.arange(len(ref)) != best
    ref_rest = ref[rest] / ref[rest].sum()
    rest_probs = probs[:, rest]
    rest_probs = rest_probs / rest_probs.sum(axis=1, keepdims=True)
    kl = (ref_rest * (np.log(ref_rest) - np.log(rest_probs))).sum(axis=1)
    specificity = 1.0 / (1.0 + kl)
    with np.errstate(invalid='ignore', divide='ignore'):
        harmonic = 2 * specificity * drop / (specificity + drop)
    return np.where(drop > 0, harmonic, 0.0)


class ActionSaliency(GreydanusSaliency):
    """Greydanus' blobs and blurred fill, scored by what the agent does.

    Actor: how a blob changes the most probable action ``a*``: ``'sarfa'``
    (:func:`sarfa`) or ``'logprob'`` (``|log pi(a*) - log pi'(a*)|``).
    Critic: how much the blob *lowers* the value, ``max(V - V', 0)``: the
    parts of the frame the value estimate rests on. Signed maps (in
    ``SaliencyResult.signed``): ``actor`` ``log pi(a*) - log pi'(a*)``,
    ``critic`` ``V - V'``, interpolated as the others.

    Args:
        score (str): ``'sarfa'`` or ``'logprob'``.
        radius, stride, blur_sigma, chunk, device, scoring: as
            :class:`GreydanusSaliency`.
    """

    SCORES = ('sarfa', 'logprob')

    def __init__(self, score='sarfa', radius=5, stride=5, blur_sigma=3,
                 chunk=64, device='cpu', scoring='auto'):
        if score not in self.SCORES:
            raise ValueError('score must be one of {}, got {!r}'.format(
                self.SCORES, score))
        super().__init__(radius, stride, blur_sigma, chunk, device, scoring)
        self.score_name = score

    def maps(self, ref_scores, ref_value, scores, values, keep):
        _, grid, rows, cols = self._grid(keep.shape[1:])

        def spread(per_blob):
            return rows @ np.asarray(per_blob).reshape(grid) @ cols.T

        change = chosen_action_change(ref_scores, scores)
        actor = (sarfa(ref_scores, scores) if self.score_name == 'sarfa'
                 else np.abs(change))
        value_drop = ref_value - np.asarray(values, dtype=np.float64)
        return (spread(actor), spread(np.maximum(value_drop, 0)),
                {'actor': spread(change), 'critic': spread(value_drop)})
