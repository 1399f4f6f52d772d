"""Perturbation saliency: Greydanus et al. 2018 and XAITK perturbers/scorers.

Both families perturb the agent's input with *keep masks* in XAITK's
convention: ``[n, H, W]`` float32, 1 = keep, 0 = fully perturbed. A masked
input is ``K * I + (1 - K) * F`` on every stacked frame, ``F`` the fill:

* Greydanus: ``F = blur(I, sigma=3)`` (each frame blurred), ``K = 1 - M``
  with ``M`` a Gaussian blob (a disk of radius 1 at a grid point, blurred
  with sigma ``radius``, peak 1) on a grid of stride ``stride``, i.e. the
  paper's ``I * (1 - M) + blur(I) * M``. The score of a mask is
  ``0.5 * ||L(I) - L(I')||^2`` with ``L`` the actor's logits or the critic's
  value; the grid of scores is interpolated bilinearly onto the ``(H, W)``
  input (grid point ``(i, j)`` sits at pixel ``(i * stride, j * stride)``;
  no zero border).
* XAITK: masks from any ``PerturbImage`` (on the ``(H, W, C)`` input), the
  fill a constant (default 0, black), scores from any
  ``GenerateClassifierConfidenceSaliency``, which returns
  ``[n_classes, H, W]`` in [-1, 1]. The actor's classes are its action
  logits, the critic's single class its value (as the XAITK Atari example).
  They become one map each: ``actor = sum over actions of |map|``,
  ``critic = |map|``.

All masked inputs are scored in batched forward passes of ``chunk`` inputs,
actor and critic from the same pass (the suite's networks through ONNX
Runtime, :mod:`engine`, on CPU or CUDA); in a recurrent model every
pass starts from the state the agent had when it saw the input. Maps are
``(H, W)`` float32 >= 0.
"""
import itertools

import chainer
import numpy as np
from scipy.ndimage import gaussian_filter

from models.recurrent_state import restore
from kernels.engine import engine_for
from kernels.resample import grid_matrix
from saliency.base import SaliencyMethod, SaliencyResult, policy_scores


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


def blur_frames(state, sigma):
    """Each frame of ``state`` ``(C, H, W)`` blurred with a Gaussian of
    ``sigma`` (the perturbations' blurred fill)."""
    return gaussian_filter(np.asarray(state, dtype=np.float32),
                           sigma=(0, sigma, sigma))


def masked_inputs(state, keep, fill):
    """``K * I + (1 - K) * F`` for a batch of keep masks.

    Args:
        state: ``(C, H, W)`` input.
        keep: ``[k, H, W]`` keep masks.
        fill: ``(C, H, W)`` fill (or broadcastable).

    Returns:
        ``(k, C, H, W)`` float32.
    """
    keep = keep[:, None]
    # The same expression as XAITK's occlude_image_batch: kept pixels stay
    # bit-exact.
    return (keep * state[None] + (1 - keep) * fill).astype(np.float32)


def score_masked(model, state, keep, fill, recurrent_state=None, chunk=64,
                 device='cpu'):
    """Actor scores ``(n, n_actions)`` and values ``(n,)`` of the masked
    inputs ``K * I + (1 - K) * F`` of ``state`` ``(C, H, W)`` for every keep
    mask of ``keep`` ``[n, H, W]``, each from ``recurrent_state``, in
    forward passes of ``chunk`` inputs.

    The suite's networks run through ONNX Runtime (:mod:`engine`) on
    ``device``, other models through Chainer (CPU).
    """
    engine = engine_for(model, device)
    scores, values = [], []
    with chainer.no_backprop_mode(), chainer.using_config('train', False):
        for begin in range(0, len(keep), chunk):
            part = keep[begin:begin + chunk]
            if engine is not None:
                part_scores, part_values = engine.masked(
                    state, part, fill, recurrent_state)
            else:
                restore(model, recurrent_state, batch_size=len(part))
                policy, value = model.pi_and_v(
                    masked_inputs(state, part, fill))
                part_scores = policy_scores(policy).array
                part_values = value.array[:, 0]
            scores.append(part_scores)
            values.append(part_values)
    return np.concatenate(scores), np.concatenate(values)


class PerturbationSaliency(SaliencyMethod):
    """Shared machinery: masks, batched scoring, the unperturbed pass.

    Subclasses provide ``masks_and_fill(state) -> (keep, fill)`` and
    ``maps(ref_scores, ref_value, scores, values, keep) -> (actor, critic)``
    or ``(actor, critic, {name: signed map})``.

    Args:
        chunk (int): masked inputs per forward pass.
        device (str): where the suite's networks run (:mod:`engine`).
    """

    def __init__(self, chunk=64, device='cpu'):
        if chunk < 1:
            raise ValueError('chunk must be >= 1, got %r' % chunk)
        self.chunk = chunk
        self.device = device

    def score(self, model, state, keep, fill, recurrent_state=None):
        """:func:`score_masked` in chunks of ``self.chunk``."""
        return score_masked(model, state, keep, fill, recurrent_state,
                            self.chunk, self.device)

    def __call__(self, model, state, recurrent_state=None):
        state = np.asarray(state, dtype=np.float32)
        if state.ndim != 4 or state.shape[0] != 1:
            raise ValueError('expected a (1, C, H, W) state, got shape {}'
                             .format(state.shape))
        restore(model, recurrent_state)
        with chainer.no_backprop_mode(), chainer.using_config('train', False):
            policy, value = model.pi_and_v(state)
        ref_scores = policy_scores(policy).array[0]
        ref_value = float(value.array[0, 0])
        keep, fill = self.masks_and_fill(state[0])
        scores, values = self.score(model, state[0], keep, fill,
                                    recurrent_state)
        maps = self.maps(ref_scores, ref_value, scores, values, keep)
        signed = None
        if len(maps) == 3:
            signed = {name: m.astype(np.float32)
                      for name, m in maps[2].items()}
        return SaliencyResult(actor=maps[0].astype(np.float32),
                              critic=maps[1].astype(np.float32),
                              policy=policy, value=ref_value,
                              recurrent_state=recurrent_state, signed=signed)


class GreydanusSaliency(PerturbationSaliency):
    """Gaussian-blob blur perturbation of Greydanus et al. 2018.

    Args:
        radius (float): sigma of the blob (the paper's r, default 5).
        stride (int): grid spacing in pixels (the paper's d, default 5).
        blur_sigma (float): sigma of the blurred fill (default 3).
        chunk (int): masked inputs per forward pass.
    """

    def __init__(self, radius=5, stride=5, blur_sigma=3, chunk=64,
                 device='cpu'):
        super().__init__(chunk, device)
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


class XAITKSaliency(PerturbationSaliency):
    """Any XAITK ``PerturbImage`` + ``GenerateClassifierConfidenceSaliency``.

    Args:
        perturber: ``PerturbImage``; called on the ``(H, W, C)`` input.
        generator: ``GenerateClassifierConfidenceSaliency``.
        fill (float): value of perturbed pixels (inputs are in [0, 1]).
        chunk (int): masked inputs per forward pass.
        device (str): where the suite's networks run (:mod:`engine`).
        same_masks (bool): the perturber's masks depend on the image's
            shape alone (a sliding window, a seeded RISE grid): make them
            once per shape.
    """

    def __init__(self, perturber, generator, fill=0.0, chunk=64,
                 device='cpu', same_masks=False):
        super().__init__(chunk, device)
        self.perturber = perturber
        self.generator = generator
        self.fill = fill
        self.same_masks = same_masks
        self._masks = {}

    def _perturb(self, image):
        if not self.same_masks:
            return np.asarray(self.perturber(image), dtype=np.float32)
        if image.shape not in self._masks:
            self._masks[image.shape] = np.asarray(self.perturber(image),
                                                  dtype=np.float32)
        return self._masks[image.shape]

    def masks_and_fill(self, state):
        image = np.ascontiguousarray(state.transpose(1, 2, 0))
        keep = self._perturb(image)
        if keep.ndim != 3 or keep.shape[1:] != state.shape[1:]:
            raise ValueError('perturber returned masks of shape {}, expected '
                             '[n, {}, {}]'.format(keep.shape,
                                                  *state.shape[1:]))
        return keep, np.float32(self.fill)

    def maps(self, ref_scores, ref_value, scores, values, keep):
        actor = self.generator(ref_scores, scores, keep)
        critic = self.generator(np.array([ref_value], dtype=np.float32),
                                values[:, None], keep)
        return np.abs(actor).sum(axis=0), np.abs(critic[0])


def log_softmax(scores):
    """Row-wise log-probabilities of action scores, float64."""
    z = np.asarray(scores, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


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
        radius, stride, blur_sigma, chunk: as :class:`GreydanusSaliency`.
    """

    SCORES = ('sarfa', 'logprob')

    def __init__(self, score='sarfa', radius=5, stride=5, blur_sigma=3,
                 chunk=64, device='cpu'):
        if score not in self.SCORES:
            raise ValueError('score must be one of {}, got {!r}'.format(
                self.SCORES, score))
        super().__init__(radius, stride, blur_sigma, chunk, device)
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


class BlurredWindowSaliency(XAITKSaliency):
    """An XAITK perturber's masks with a blurred fill and raw scores.

    The perturbed pixels take a blurred copy of the input (each stacked
    frame, sigma ``blur_sigma``) instead of a constant; each perturbed
    input is scored by raw changes, not by an XAITK scorer that scales each
    action's map to its own peak: actor ``sum_a pi(a) |s'_a - s_a|`` (the
    action scores' changes weighted by the unperturbed policy), critic
    ``|V' - V|``. A pixel's saliency is the mean score of the inputs that
    perturbed it, weighted by how much (``1 - keep``); 0 where none did.

    Args:
        perturber: XAITK ``PerturbImage``.
        blur_sigma (float): sigma of the fill.
        chunk, device, same_masks: as :class:`XAITKSaliency`.
    """

    def __init__(self, perturber, blur_sigma=3, chunk=64, device='cpu',
                 same_masks=False):
        super().__init__(perturber, generator=None, chunk=chunk,
                         device=device, same_masks=same_masks)
        self.blur_sigma = blur_sigma

    def masks_and_fill(self, state):
        keep, _ = super().masks_and_fill(state)
        return keep, blur_frames(state, self.blur_sigma)

    def maps(self, ref_scores, ref_value, scores, values, keep):
        policy = np.exp(log_softmax(ref_scores))
        actor = (np.abs(scores - ref_scores) * policy).sum(axis=1)
        critic = np.abs(np.asarray(values) - ref_value)
        perturbed = 1.0 - keep
        weight = perturbed.sum(axis=0)
        weight[weight == 0] = np.inf
        return (np.tensordot(actor, perturbed, 1) / weight,
                np.tensordot(critic, perturbed, 1) / weight)
