"""Saliency methods for A3C agents, all behind one contract.

Every method follows the contract of :mod:`saliency.base`:
``method(model, state, recurrent_state=None) -> SaliencyResult``, maps
``(H, W)`` float32 >= 0 for the newest frame.

``make_saliency(name, chunk=...)`` builds one by its ``--saliency`` name:

==========  ==============================================================
guided      guided backpropagation (:mod:`saliency.gradient`)
gradient    plain input gradient through the same network
greydanus   Gaussian-blob blur perturbation, r=5, d=5 (Greydanus et al.)
occlusion   XAITK SlidingWindow 5x5, stride 5 + OcclusionScoring
rise        XAITK RISEGrid (300 masks, 8x8 cells, p1=0.5, seed 0)
            + RISEScoring(p1=0.5)
==========  ==============================================================
"""
from saliency.base import (SaliencyMethod, SaliencyResult, policy_only,
                           policy_scores)
from saliency.gradient import GradientSaliency
from saliency.perturbation import (GreydanusSaliency, PerturbationSaliency,
                                   XAITKSaliency)


def _occlusion(chunk):
    from xaitk_saliency.impls.gen_classifier_conf_sal.occlusion_scoring \
        import OcclusionScoring
    from xaitk_saliency.impls.perturb_image.sliding_window import \
        SlidingWindow
    return XAITKSaliency(SlidingWindow(window_size=(5, 5), stride=(5, 5)),
                         OcclusionScoring(), chunk=chunk)


def _rise(chunk):
    from xaitk_saliency.impls.gen_classifier_conf_sal.rise_scoring import \
        RISEScoring
    from xaitk_saliency.impls.perturb_image.rise import RISEGrid
    return XAITKSaliency(RISEGrid(n=300, s=8, p1=0.5, seed=0, threads=0),
                         RISEScoring(p1=0.5), chunk=chunk)


METHODS = {
    'guided': lambda chunk: GradientSaliency(guided=True),
    'gradient': lambda chunk: GradientSaliency(guided=False),
    'greydanus': lambda chunk: GreydanusSaliency(chunk=chunk),
    'occlusion': _occlusion,
    'rise': _rise,
}


def make_saliency(name, chunk=32):
    """The saliency method called ``name`` (a key of METHODS).

    ``chunk`` is the number of perturbed inputs per forward pass of the
    perturbation methods.
    """
    if name not in METHODS:
        raise ValueError('unknown saliency method {!r}; choose from {}'
                         .format(name, ', '.join(sorted(METHODS))))
    return METHODS[name](chunk)


__all__ = ['METHODS', 'GradientSaliency', 'GreydanusSaliency',
           'PerturbationSaliency', 'SaliencyMethod', 'SaliencyResult',
           'XAITKSaliency', 'make_saliency', 'policy_only', 'policy_scores']
