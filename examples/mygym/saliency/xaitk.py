"""XAITK's perturbers and scorers, as in the XAITK-Saliency Atari example.

Masks from any ``PerturbImage`` (on the ``(H, W, C)`` input), the fill a
constant (default 0, black), scores from any
``GenerateClassifierConfidenceSaliency``, which returns ``[n_classes, H,
W]`` in [-1, 1]. The actor's classes are its action logits, the critic's
single class its value. They become one map each: ``actor = sum over
actions of |map|``, ``critic = |map|``. :class:`BlurredWindowSaliency`
keeps the masks but fills with blur and scores raw changes.
"""
import numpy as np

from saliency.scoring import PerturbationSaliency, blur_frames, log_softmax


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
        scoring (str): as :class:`PerturbationSaliency`.
    """

    def __init__(self, perturber, generator, fill=0.0, chunk=64,
                 device='cpu', same_masks=False, scoring='auto'):
        super().__init__(chunk, device, scoring)
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
        chunk, device, same_masks, scoring: as :class:`XAITKSaliency`.
    """

    def __init__(self, perturber, blur_sigma=3, chunk=64, device='cpu',
                 same_masks=False, scoring='auto'):
        super().__init__(perturber, generator=None, chunk=chunk,
                         device=device, same_masks=same_masks,
                         scoring=scoring)
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
