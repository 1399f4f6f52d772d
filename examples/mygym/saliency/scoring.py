"""Perturbation saliency's shared part: masked inputs and batched scoring.

Every perturbation method perturbs the agent's input with *keep masks* in
XAITK's convention: ``[n, H, W]`` float32, 1 = keep, 0 = fully perturbed.
A masked input is ``K * I + (1 - K) * F`` on every stacked frame, ``F`` the
fill. All masked inputs are scored in batched forward passes, actor and critic
from the same pass (the suite's networks through ONNX Runtime,
:mod:`kernels.engine`, on CPU or CUDA); in a recurrent model every pass
starts from the state the agent had when it saw the input. Maps are
``(H, W)`` float32 >= 0.

``scoring`` chooses the pass: ``'dense'`` runs the whole network on every
masked input, ``chunk`` at a time; ``'incremental'`` recomputes only what
each mask changes (:mod:`kernels.incremental`, the suite's networks on the
CPU); ``'auto'`` (the default) takes the incremental pass where it is
estimated cheaper (masks that perturb a small part of the frame, such as
Greydanus' blobs and sliding windows) and the dense one elsewhere (RISE's
masks cover the whole frame). Both give the same scores to float32
rounding.

The families: :mod:`saliency.greydanus` (Gaussian blobs and blurred fill,
and the action-specific scores on them), :mod:`saliency.xaitk` (XAITK's
perturbers and scorers, and their blurred-fill variant).
"""
import chainer
import numpy as np
from scipy.ndimage import gaussian_filter

from kernels.engine import SCORINGS, engine_for
from kernels.incremental import worthwhile
from models.recurrent_state import restore
from saliency.base import SaliencyMethod, SaliencyResult, policy_scores


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


def check_scoring(scoring, model=None, device='cpu'):
    """A ValueError (one line) for a ``scoring`` that cannot run
    ``model`` on ``device``."""
    if scoring not in SCORINGS:
        raise ValueError('unknown scoring {!r}; choose from {}'.format(
            scoring, ', '.join(SCORINGS)))
    if scoring == 'incremental' and (
            device != 'cpu' or (model is not None
                                and engine_for(model, 'cpu') is None)):
        raise ValueError("incremental scoring runs the suite's own "
                         "networks on the CPU (--device cpu); use auto or "
                         "dense")


def score_masked(model, state, keep, fill, recurrent_state=None, chunk=64,
                 device='cpu', scoring='auto'):
    """Actor scores ``(n, n_actions)`` and values ``(n,)`` of the masked
    inputs ``K * I + (1 - K) * F`` of ``state`` ``(C, H, W)`` for every keep
    mask of ``keep`` ``[n, H, W]``, each from ``recurrent_state``.

    The suite's networks run through ONNX Runtime (:mod:`engine`) on
    ``device``, other models through Chainer (CPU); ``scoring`` as the
    module says (the dense pass in forward passes of ``chunk`` inputs).
    """
    engine = engine_for(model, device)
    if engine is not None and device == 'cpu' and scoring != 'dense':
        incremental = engine.incremental()
        state = np.asarray(state, dtype=np.float32)
        plan = incremental.plan(state, keep, fill)
        if scoring == 'incremental' or worthwhile(plan):
            return incremental.masked(state, keep, fill, recurrent_state,
                                      plan)
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
        chunk (int): masked inputs per forward pass of the dense pass.
        device (str): where the suite's networks run (:mod:`engine`).
        scoring (str): ``'auto'``, ``'dense'`` or ``'incremental'`` (see
            the module).
    """

    def __init__(self, chunk=64, device='cpu', scoring='auto'):
        if chunk < 1:
            raise ValueError('chunk must be >= 1, got %r' % chunk)
        check_scoring(scoring, device=device)
        self.chunk = chunk
        self.device = device
        self.scoring = scoring

    def check_model(self, model):
        super().check_model(model)
        check_scoring(self.scoring, model, self.device)

    def score(self, model, state, keep, fill, recurrent_state=None):
        """:func:`score_masked` with this method's chunk, device and
        scoring."""
        return score_masked(model, state, keep, fill, recurrent_state,
                            self.chunk, self.device, self.scoring)

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


def log_softmax(scores):
    """Row-wise log-probabilities of action scores, float64."""
    z = np.asarray(scores, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
