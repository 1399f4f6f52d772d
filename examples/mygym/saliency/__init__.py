"""Saliency methods for A3C agents, all behind one contract.

Every method follows the contract of :mod:`saliency.base`:
``method(model, state, recurrent_state=None) -> SaliencyResult``, maps
``(H, W)`` float32 >= 0 for the newest frame.

``make_saliency(name, chunk=...)`` builds one by its ``--saliency`` name:

==============  ==========================================================
guided          guided backpropagation (:mod:`saliency.gradient`)
gradient        plain input gradient through the same network
guided-all      guided, summed over every stacked frame
gradient-all    gradient, summed over every stacked frame
greydanus       Gaussian-blob blur perturbation, r=5, d=5 (Greydanus et al.)
occlusion       XAITK SlidingWindow 5x5, stride 5 + OcclusionScoring
rise            XAITK RISEGrid (300 masks, 8x8 cells, p1=0.5, seed 0)
                + RISEScoring(p1=0.5)
sarfa           Greydanus' blobs and blur; actor: SARFA of the most probable
                action (Puri et al. 2020); critic: the value's drop
logprob         the same blobs; actor: change of log pi(a*); critic: the
                value's drop
occlusion-blur  occlusion's windows with a blurred fill and raw scores
rise-blur       RISE's masks with a blurred fill and raw scores
==============  ==========================================================

The first six are the faithful rebuilds; the last four
(:class:`ActionSaliency`, :class:`BlurredWindowSaliency`) answer what the
faithfulness report (``faithfulness.py``) found about them.
"""
from saliency.base import (SaliencyMethod, SaliencyResult, policy_only,
                           policy_scores)
from saliency.gradient import GradientSaliency
from saliency.greydanus import ActionSaliency, GreydanusSaliency
from saliency.scoring import PerturbationSaliency
from saliency.xaitk import BlurredWindowSaliency, XAITKSaliency


def _windows():
    from xaitk_saliency.impls.perturb_image.sliding_window import \
        SlidingWindow
    return SlidingWindow(window_size=(5, 5), stride=(5, 5))


def _rise_masks():
    from xaitk_saliency.impls.perturb_image.rise import RISEGrid
    return RISEGrid(n=300, s=8, p1=0.5, seed=0, threads=0)


def _occlusion(chunk, device, scoring):
    from xaitk_saliency.impls.gen_classifier_conf_sal.occlusion_scoring \
        import OcclusionScoring
    return XAITKSaliency(_windows(), OcclusionScoring(), chunk=chunk,
                         device=device, same_masks=True, scoring=scoring)


def _rise(chunk, device, scoring):
    from xaitk_saliency.impls.gen_classifier_conf_sal.rise_scoring import \
        RISEScoring
    return XAITKSaliency(_rise_masks(), RISEScoring(p1=0.5), chunk=chunk,
                         device=device, same_masks=True, scoring=scoring)


def _gradient(**options):
    return lambda chunk, device, scoring: GradientSaliency(device=device,
                                                           **options)


def _perturbation(cls, *args, **options):
    return lambda chunk, device, scoring: cls(
        *args, chunk=chunk, device=device, scoring=scoring, **options)


# name -> factory(chunk, device, scoring).
METHODS = {
    'guided': _gradient(guided=True),
    'gradient': _gradient(guided=False),
    'greydanus': _perturbation(GreydanusSaliency),
    'occlusion': _occlusion,
    'rise': _rise,
    'guided-all': _gradient(guided=True, frames='all'),
    'gradient-all': _gradient(guided=False, frames='all'),
    'sarfa': _perturbation(ActionSaliency, 'sarfa'),
    'logprob': _perturbation(ActionSaliency, 'logprob'),
    'occlusion-blur': lambda chunk, device, scoring: BlurredWindowSaliency(
        _windows(), chunk=chunk, device=device, same_masks=True,
        scoring=scoring),
    'rise-blur': lambda chunk, device, scoring: BlurredWindowSaliency(
        _rise_masks(), chunk=chunk, device=device, same_masks=True,
        scoring=scoring),
}


def make_saliency(name, chunk=64, device='cpu', model=None, scoring='auto'):
    """The saliency method called ``name`` (a key of METHODS).

    ``chunk`` is the number of perturbed inputs per forward pass of the
    perturbation methods' dense pass, ``device`` where the method runs
    (``'cpu'`` or ``'cuda'``, :mod:`kernels.engine`), ``scoring`` how the
    perturbation methods score their masks (``'auto'``, ``'dense'``,
    ``'incremental'``: :mod:`saliency.scoring`). With ``model``, a
    ValueError (one line) if the method cannot run that model so.
    """
    if name not in METHODS:
        raise ValueError('unknown saliency method {!r}; choose from {}'
                         .format(name, ', '.join(sorted(METHODS))))
    method = METHODS[name](chunk, device, scoring)
    if model is not None:
        method.check_model(model)
    return method


class SeveralMethods:
    """Several saliency methods on the same inputs: the first one's
    :class:`SaliencyResult` (the action, the videos) with the others' maps
    of the same input and recurrent state in ``others``.

    Args:
        methods (dict): name -> method, in the order given.
    """

    def __init__(self, methods):
        self.methods = dict(methods)
        self.names = list(self.methods)

    def check_model(self, model):
        for method in self.methods.values():
            method.check_model(model)

    def __call__(self, model, state, recurrent_state=None):
        first = self.methods[self.names[0]]
        result = first(model, state, recurrent_state)
        result.others = {}
        for name in self.names[1:]:
            other = self.methods[name](model, state, recurrent_state)
            result.others[name] = (other.actor, other.critic)
        return result


def make_methods(names, chunk=64, device='cpu', model=None,
                 scoring='auto'):
    """:func:`make_saliency` of one name, or :class:`SeveralMethods` of
    several (the first one's result, the others' maps beside it)."""
    made = {name: make_saliency(name, chunk, device, model, scoring)
            for name in names}
    return made[names[0]] if len(names) == 1 else SeveralMethods(made)


__all__ = ['METHODS', 'ActionSaliency', 'BlurredWindowSaliency',
           'GradientSaliency', 'GreydanusSaliency',
           'PerturbationSaliency', 'SaliencyMethod', 'SaliencyResult',
           'SeveralMethods', 'XAITKSaliency', 'make_methods',
           'make_saliency', 'policy_only', 'policy_scores']
