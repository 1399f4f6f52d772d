"""The A3C agent of this suite: plain A3C in training, saliency in demos.

While ``chainer.config.train`` is True, or neither a saliency method nor an
observer is set, :class:`SaliencyA3C` acts exactly as ChainerRL's A3C. In
test mode each ``act()`` also computes the actor and critic saliency of the
observation with ``saliency`` (see :mod:`saliency`; without one, only the
policy and value) and hands the result, with the observation and the chosen
action, to every observer's ``observe`` (videos:
:class:`render.SaliencyRecorder`; rollouts: :class:`rollout.RolloutRecorder`).
The action is drawn from the same policy with the same random numbers as
without saliency. For a recurrent model every method starts from the state
the agent had when it saw the frame, and the agent's own state advances by
that frame alone, as without saliency.
"""
import chainer
import numpy as np

import chainerrl_compat  # noqa: F401
from chainerrl.agents import a3c

from checkpoint import AtomicCheckpointMixin
from recurrent_state import restore, snapshot
from saliency.base import policy_only


class SaliencyA3C(AtomicCheckpointMixin, a3c.A3C):
    """A3C with saliency in test mode and crash-safe checkpoints.

    Attributes:
        saliency: a saliency method (``method(model, state)``) or None.
        observers: objects with ``observe(obs, result, action)`` and
            ``end_episode()``.
    """

    saliency = None
    observers = ()

    def act(self, obs):
        if chainer.config.train or (self.saliency is None
                                    and not self.observers):
            return super().act(obs)
        state = self.batch_states([obs], np, self.phi)
        recurrent_state = snapshot(self.model)
        result = (self.saliency or policy_only)(self.model, state,
                                                recurrent_state)
        if recurrent_state is not None:
            # The method may have moved the state: put the agent's own back
            # and advance it with this frame, exactly as A3C.act would.
            restore(self.model, recurrent_state)
            with chainer.no_backprop_mode():
                result.policy, value = self.model.pi_and_v(state)
            result.value = float(value.array[0, 0])
        if self.act_deterministically:
            action = result.policy.most_probable.array[0]
        else:
            action = result.policy.sample().array[0]
        for observer in self.observers:
            observer.observe(obs, result, action)
        return action

    def stop_episode(self):
        super().stop_episode()
        if not chainer.config.train:
            for observer in self.observers:
                observer.end_episode()
