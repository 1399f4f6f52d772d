"""The contract every saliency method follows.

A saliency method is a callable::

    method(model, state, recurrent_state=None) -> SaliencyResult

* ``model``: an A3C model with ``pi_and_v(state) -> (policy, value)``;
* ``state``: the agent's input, a batch of one ``(1, C, H, W)`` float32
  (the stacked frames after ``phi``, values in [0, 1]);
* ``recurrent_state``: for a recurrent model, the flat state
  (:mod:`recurrent_state`) the model had when it saw ``state``; every
  forward pass of the method starts from it, and None is the zero state
  of an episode's start. Feed-forward models ignore it. The method may
  leave the model in any state: the caller restores its own.

The result holds the ``actor`` and ``critic`` maps, ``(H, W)`` float32
>= 0 in the method's own units (rendering normalises them), for the newest
frame, and the policy and value of the unperturbed input, so the agent acts
on them without another forward pass.
"""
import abc
import dataclasses

import chainer
import numpy as np

from kernels.graphs import model_kind
from models.recurrent_state import restore


@dataclasses.dataclass
class SaliencyResult:
    """Saliency of one observation.

    Attributes:
        actor (np.ndarray): ``(H, W)`` float32 >= 0, the actor's map
            (None from :func:`policy_only`).
        critic (np.ndarray): ``(H, W)`` float32 >= 0, the critic's map.
        policy: ChainerRL action distribution (batch of one) of the
            unperturbed input; ``policy.sample()`` / ``most_probable`` give
            the action exactly as ``A3C.act`` would.
        value (float): the critic's value of the unperturbed input.
        recurrent_state (np.ndarray or None): the flat recurrent state the
            input was evaluated with (see :mod:`recurrent_state`).
        action (int or None): the action the agent took (set by the agent).
        signed (dict or None): signed maps of methods that have them
            (``{'actor': ..., 'critic': ...}``, ``(H, W)`` float32), which
            ``--save-maps`` keeps beside the maps.
        others (dict or None): with several methods
            (:class:`saliency.SeveralMethods`), the other methods' maps of
            the same input, ``{name: (actor, critic)}``.
    """

    actor: np.ndarray
    critic: np.ndarray
    policy: object
    value: float
    recurrent_state: np.ndarray = None
    action: int = None
    signed: dict = None
    others: dict = None

    @property
    def action_probs(self):
        """``(n_actions,)`` float32 action probabilities."""
        return np.asarray(self.policy.all_prob.array[0], dtype=np.float32)


def policy_scores(policy):
    """The pre-softmax action scores ``(1, n_actions)`` of a distribution.

    ``logits`` for a softmax policy, ``values`` for a mellowmax policy.
    """
    for name in ('logits', 'values'):
        scores = getattr(policy, name, None)
        if scores is not None:
            return scores
    raise TypeError('cannot find action scores in {!r}'.format(policy))


def policy_only(model, state, recurrent_state=None):
    """No saliency: the policy and value of ``state``, maps None."""
    restore(model, recurrent_state)
    with chainer.no_backprop_mode(), chainer.using_config('train', False):
        policy, value = model.pi_and_v(state)
    return SaliencyResult(actor=None, critic=None, policy=policy,
                          value=float(value.array[0, 0]),
                          recurrent_state=recurrent_state)


class SaliencyMethod(abc.ABC):
    """Base of the suite's methods; the contract is the module's.

    ``device``: where the method runs its networks (``'cpu'`` or
    ``'cuda'``).
    """

    device = 'cpu'

    def check_model(self, model):
        """Raise ValueError (one line) if this method cannot run ``model``
        on its device: off the CPU only the networks of ONNX Runtime's
        engine run (every network that declares its structure, not the
        mellowmax policy)."""
        if self.device != 'cpu' and model_kind(model) is None:
            raise ValueError(
                '--device {} runs only the networks ONNX Runtime runs; '
                'this {} runs in Chainer on the CPU (use --device cpu)'
                .format(self.device, type(model).__name__))

    @abc.abstractmethod
    def __call__(self, model, state, recurrent_state=None):
        """``SaliencyResult`` of ``state`` for ``model`` (see the module)."""


def frame_maps(method, model, states, index, recurrent_states=None,
               prepare=None):
    """``(actor, critic)`` of ``states[index]``, as every tool computes the
    maps of a frame: the state (through ``prepare``, e.g. ``phi`` for uint8
    observations) as a batch of one, from ``recurrent_states[index]``
    (the state it was seen with) for a recurrent model."""
    state = states[index] if prepare is None else prepare(states[index])
    result = method(model, state[None], None if recurrent_states is None
                    else recurrent_states[index])
    return result.actor, result.critic


def maps_of(method, model, states, recurrent_states=None, prepare=None,
            progress=None):
    """:func:`frame_maps` of every state, stacked: ``(actor, critic)``
    ``(n, H, W)``; ``progress()`` is called after each frame."""
    actor, critic = [], []
    for index in range(len(states)):
        a, c = frame_maps(method, model, states, index, recurrent_states,
                          prepare)
        actor.append(a)
        critic.append(c)
        if progress is not None:
            progress()
    return np.stack(actor), np.stack(critic)
