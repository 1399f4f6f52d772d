"""The A3C agent of this suite: plain A3C in training, saliency in demos.

While ``chainer.config.train`` is True, or no saliency method is set,
:class:`SaliencyA3C` acts exactly as ChainerRL's A3C. In test mode with a
method set, each ``act()`` also computes the actor and critic saliency of
the observation (see :mod:`saliency`) and hands it, with the observation and
the chosen action, to ``saliency_observer.observe`` (e.g. a
:class:`render.SaliencyRecorder`). The action is drawn from the same policy
with the same random numbers as without saliency.
"""
import chainer
import numpy as np

import chainerrl_compat  # noqa: F401
from chainerrl.agents import a3c

from checkpoint import AtomicCheckpointMixin


class SaliencyA3C(AtomicCheckpointMixin, a3c.A3C):
    """A3C with saliency in test mode and crash-safe checkpoints.

    Attributes:
        saliency: a saliency method (``method(model, state)``) or None.
        saliency_observer: object with ``observe(obs, result, action)`` and
            ``end_episode()``, or None.
    """

    saliency = None
    saliency_observer = None

    def act(self, obs):
        if chainer.config.train or self.saliency is None:
            return super().act(obs)
        state = self.batch_states([obs], np, self.phi)
        result = self.saliency(self.model, state)
        if self.act_deterministically:
            action = result.policy.most_probable.array[0]
        else:
            action = result.policy.sample().array[0]
        if self.saliency_observer is not None:
            self.saliency_observer.observe(obs, result, action)
        return action

    def stop_episode(self):
        super().stop_episode()
        if self.saliency_observer is not None and not chainer.config.train:
            self.saliency_observer.end_episode()
