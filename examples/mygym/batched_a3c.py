"""A3C trained one segment at a time in a single batched pass.

ChainerRL's A3C keeps a Chainer graph alive for each of the ``t_max`` steps
of a segment and backpropagates through all of them at the update.
:class:`BatchedA3C` computes the same loss another way for a feed-forward
model: it acts without a graph (through ONNX Runtime,
:class:`engine.ActingEngine`, where that runs the model) and, at the
update, recomputes the segment's observations, plus the state to bootstrap
from, in one forward pass. A recurrent model built as ``features`` (the
convolutions), one ``chainer.links.LSTM`` called ``lstm`` and ``heads``
(policy and value), such as the LSTM-CNN, trains the same way: the
convolutions of the whole segment run in one batch, the LSTM runs
through the segment from the state it started with as one function
(:mod:`lstm_segment`), and the heads run in one batch. The LSTM-CNN acts
through ONNX Runtime too, which hands out every convolution's output;
the update backpropagates through those with :mod:`npconv` instead of
running the convolutions again. The local weights do
not change within a segment, so the actions, the random numbers drawn, the
loss and the gradient are ChainerRL's (``tests/test_batched_a3c.py`` checks
it against ChainerRL's own ``A3C``). Other recurrent models train as in
ChainerRL.
"""
import chainer
import chainer.functions as F
import numpy as np

import chainerrl_compat  # noqa: F401
from chainerrl.agents import a3c
from chainerrl.distribution import sample_discrete_actions
from chainerrl.misc import copy_param
from chainerrl.recurrent import Recurrent

from lstm_segment import lstm_segment
from recurrent_state import steps_one_lstm
from engine import ActingEngine, network_kind
from npconv import ConvELUStack


class NonFiniteTraining(RuntimeError):
    """The loss became NaN or infinite: the weights must not be updated."""


class BatchedA3C(a3c.A3C):
    """ChainerRL's A3C with each segment's loss from one batched pass."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The action taken at each step of the segment (batched training).
        self.past_actions = {}
        # The LSTM-CNN's convolution outputs at each step of the segment,
        # from acting (the update backpropagates through them).
        self.past_features = {}
        self._last_features = None
        # The LSTM-CNN's NumPy convolutions: rebuilt after every sync
        # (None), False for a model npconv does not run.
        self._convs = None
        self._acting = None     # built once: it reads the weights live
        self._recurrent = isinstance(self.model, Recurrent)
        # A recurrent model's (c, h) when the segment began (None: zero).
        self._segment_start = None

    def _batched_training(self):
        return not self._recurrent or steps_one_lstm(self.model)

    def _lstm_state(self):
        lstm = self.model.lstm
        if lstm.c is None:
            return None
        return lstm.c.array, lstm.h.array

    def act_and_train(self, obs, reward):
        if not self._batched_training():
            return super().act_and_train(obs, reward)
        statevar = self.batch_states([obs], np, self.phi)
        self.past_rewards[self.t - 1] = reward
        if self.t - self.t_start == self.t_max:
            self.update(statevar)
        if self._recurrent and self.t == self.t_start:
            self._segment_start = self._lstm_state()
        self.past_states[self.t] = statevar
        action, value, entropy = self._sample_action(statevar)
        self.past_actions[self.t] = action
        if self._last_features is not None:
            self.past_features[self.t] = self._last_features
        self.t += 1
        self.average_value += ((1 - self.average_value_decay)
                               * (value - self.average_value))
        self.average_entropy += ((1 - self.average_entropy_decay)
                                 * (entropy - self.average_entropy))
        return action[0]

    def _sample_action(self, statevar):
        """Action ``(1,)``, value and policy entropy for one observation.

        No graph is kept: :meth:`update` recomputes the segment (a
        recurrent model's state still advances, as in ChainerRL). The
        suite's networks act through ONNX Runtime
        (:class:`engine.ActingEngine`, built once per process: it reads the
        weights of the moment at every step, so syncs need no rebuild); the
        action is drawn as ChainerRL's ``SoftmaxDistribution.sample`` draws
        it, with the same random numbers.
        """
        if self._acting is None:
            kind = network_kind(self.model)
            self._acting = (ActingEngine(self.model, features=bool(
                self._conv_stack())) if kind else False)
        if self._acting is False:
            with chainer.no_backprop_mode():
                pout, vout = self.model.pi_and_v(statevar)
                return (pout.sample().array, float(vout.array[0]),
                        float(pout.entropy.array[0]))
        if self._recurrent:
            scores, values, state, *features = self._acting(
                statevar, self._lstm_state())
            self.model.lstm.set_state(*map(chainer.Variable, state))
            self._last_features = features[0] if features else None
        else:
            scores, values = self._acting(statevar)
        scores = scores - scores.max(axis=1, keepdims=True)
        exps = np.exp(scores)
        total = exps.sum(axis=1, keepdims=True)
        probs = exps / total
        action = sample_discrete_actions(probs)
        log_probs = scores - np.log(total)
        return (action, float(values[0]),
                float(-(probs * log_probs).sum()))

    def sync_parameters(self):
        super().sync_parameters()
        if self._convs:         # its weight matrices are the old ones
            self._convs = None

    def _conv_stack(self):
        """The LSTM-CNN's convolutions in NumPy with the weights of the
        moment (:class:`npconv.ConvELUStack`), or False where npconv does
        not run the model."""
        if self._convs is None:
            self._convs = False
            if self._recurrent and network_kind(self.model) == 'lstm':
                try:
                    self._convs = ConvELUStack(self.model.convs)
                except ValueError:       # a convolution npconv does not run
                    pass
        return self._convs

    def _segment_features(self, steps):
        """The convolution outputs acting computed for ``steps``, stacked
        per layer, or None where a step has none."""
        found = [self.past_features.get(i) for i in steps]
        if not found or any(f is None for f in found):
            return None
        return [np.concatenate(layer) for layer in zip(*found)]

    def _segment_outputs(self, x, features=None):
        """Policy and value of a segment's observations ``x``, in order,
        with the graph the loss needs, and the NumPy convolution pass whose
        gradients :meth:`update` adds after the backward (or None).
        ``features``: every convolution's outputs for ``x``, computed while
        acting with these weights; the convolutions then only run
        backward."""
        if not self._recurrent:
            return self.model.pi_and_v(x) + (None,)
        conv_pass = None
        convs = self._conv_stack()
        if convs:
            if features is not None:
                convs.keep(x, features)
                features = chainer.Variable(features[-1])
            else:
                features = chainer.Variable(convs.forward(x, keep=True))
            conv_pass = convs, features
        else:
            features = self.model.features(x)
        return self.model.heads(lstm_segment(
            self.model.lstm, features, self._segment_start)) + (conv_pass,)

    def update(self, statevar):
        """ChainerRL's A3C update, with the segment in one forward pass."""
        if not self._batched_training():
            return super().update(statevar)
        assert self.t_start < self.t
        steps = range(self.t_start, self.t)
        states = [self.past_states[i] for i in steps]
        features = self._segment_features(steps)
        R = 0
        if statevar is not None and features is not None:
            # The value to bootstrap from, one acting step with the weights
            # and state of the moment (no gradient goes through it).
            R = float(self._acting(statevar, self._lstm_state())[1][0])
        elif statevar is not None:
            # The value to bootstrap from rides along in the same pass.
            states.append(statevar)
        # (any action for that last row: its terms are sliced off below)
        actions = np.zeros(len(states), dtype=np.int32)
        actions[:len(steps)] = [self.past_actions[i][0] for i in steps]
        pout, vout, conv_pass = self._segment_outputs(
            np.concatenate(states), features)
        values = F.reshape(vout, (len(states),))
        if len(states) > len(steps):
            R = float(values.array[-1])
        log_probs = pout.log_prob(actions)[:len(steps)]
        entropies = pout.entropy[:len(steps)]
        values = values[:len(steps)]
        # Returns and advantages step by step, newest first, as ChainerRL.
        returns = np.zeros(len(steps), dtype=np.float32)
        advantages = np.zeros(len(steps), dtype=np.float32)
        for k in reversed(range(len(steps))):
            R *= self.gamma
            R += self.past_rewards[steps[k]]
            if self.use_average_reward:
                R -= self.average_reward
            advantage = R - float(values.array[k])
            if self.use_average_reward:
                self.average_reward += self.average_reward_tau * advantage
            returns[k] = R
            advantages[k] = advantage

        pi_loss = -F.sum(log_probs * advantages)
        pi_loss -= self.beta * F.sum(entropies)
        v_loss = F.sum((values - returns) ** 2) / 2
        if self.pi_loss_coef != 1.0:
            pi_loss *= self.pi_loss_coef
        if self.v_loss_coef != 1.0:
            v_loss *= self.v_loss_coef
        if self.keep_loss_scale_same and len(steps) < self.t_max:
            factor = self.t_max / len(steps)
            pi_loss *= factor
            v_loss *= factor
        if self.normalize_grad_by_t_max:
            pi_loss /= len(steps)
            v_loss /= len(steps)

        loss = pi_loss + v_loss
        if not np.isfinite(loss.array).all():
            raise NonFiniteTraining(
                'the A3C loss is {} at step {}: training diverged (lower '
                '--lr, or add --gradient-clipping); the checkpoints written '
                'so far are intact'.format(float(loss.array), self.t))
        self.model.cleargrads()
        loss.backward()
        if conv_pass is not None:
            convs, features = conv_pass
            for link, (gW, gb) in zip(self.model.convs,
                                      convs.backward(features.grad)):
                link.W.grad, link.b.grad = gW, gb
        copy_param.copy_grad(target_link=self.shared_model,
                             source_link=self.model)
        self.optimizer.update()
        self.sync_parameters()

        # (ChainerRL's per-step log_prob, entropy and value dicts stay empty)
        self.past_states = {}
        self.past_rewards = {}
        self.past_actions.clear()
        self.past_features.clear()
        self.t_start = self.t
