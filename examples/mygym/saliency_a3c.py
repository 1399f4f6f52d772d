"""The A3C agent of this suite: plain A3C in training, saliency in demos.

While ``chainer.config.train`` is True, or no saliency method is set,
:class:`SaliencyA3C` acts exactly as its training agent
(:class:`batched_a3c.BatchedA3C`, ChainerRL's A3C computed in batches). In
test mode with a method set, each ``act()`` also computes the actor and
critic saliency of the observation and hands it out in
:attr:`SaliencyA3C.last_result` (a :class:`saliency.SaliencyResult`, with
the action taken). The action is drawn from the same policy with the same
random numbers as without saliency. For a recurrent model the method starts
from the state the agent had when it saw the frame, and the agent's own
state advances by that frame alone, as without saliency.
"""
import chainer
import numpy as np

from training.batched_a3c import BatchedA3C
from models.checkpoint import AtomicCheckpointMixin
from models.recurrent_state import restore, snapshot


class SaliencyA3C(AtomicCheckpointMixin, BatchedA3C):
    """A3C with saliency in test mode and crash-safe checkpoints.

    Attributes:
        saliency: a saliency method (see :mod:`saliency`), or None.
            :func:`saliency.policy_only` computes no map but still hands out
            the policy and value of every step.
        last_result: the :class:`saliency.SaliencyResult` of the last
            ``act()`` in test mode with a method set, else None.
    """

    saliency = None
    last_result = None

    def act(self, obs):
        self.last_result = None
        if chainer.config.train or self.saliency is None:
            return super().act(obs)
        state = self.batch_states([obs], np, self.phi)
        recurrent_state = snapshot(self.model)
        result = self.saliency(self.model, state, recurrent_state)
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
        result.action = int(action)
        self.last_result = result
        return action
