"""Saliency methods for A3C agents, all behind one contract.

A method is a callable ``method(model, state) -> SaliencyResult``:

* ``model``: an A3C model with ``pi_and_v(state) -> (policy, value)``;
* ``state``: the agent's input batch of one, ``(1, C, H, W)`` float32
  (the stacked frames after ``phi``, values in [0, 1]);
* the result holds ``actor`` and ``critic`` maps, ``(H, W)`` float32, >= 0,
  in the method's own units (not normalised: rendering does that), for the
  newest frame, plus the policy and value of the unperturbed input, so the
  agent acts on them without a second forward pass.

``make_saliency(name)`` builds one by its ``--saliency`` name.
"""
from saliency.base import SaliencyMethod, SaliencyResult, policy_scores
from saliency.gradient import GradientSaliency

METHODS = {
    'guided': lambda: GradientSaliency(guided=True),
    'gradient': lambda: GradientSaliency(guided=False),
}


def make_saliency(name):
    """The saliency method called ``name`` (a key of METHODS)."""
    try:
        return METHODS[name]()
    except KeyError:
        raise ValueError('unknown saliency method {!r}; choose from {}'
                         .format(name, ', '.join(sorted(METHODS))))


__all__ = ['METHODS', 'GradientSaliency', 'SaliencyMethod', 'SaliencyResult',
           'make_saliency', 'policy_scores']
