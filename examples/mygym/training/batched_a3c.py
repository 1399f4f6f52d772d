"""A3C trained one segment at a time in a single batched pass.

ChainerRL's A3C keeps a Chainer graph alive for each of the ``t_max`` steps
of a segment and backpropagates through all of them at the update.
:class:`BatchedA3C` computes the same loss and gradients another way. It
acts without a graph, through ONNX Runtime (:class:`engine.ActingEngine`,
which also hands out every layer's output), and at the update:

* a feed-forward network whose declared structure
  (:class:`networks.Structure`) is ReLU convolutions, one dense ReLU layer
  and a policy and a value head (the A3CFF, ChainerRL's A3CFF, the Nature
  CNN) runs no forward pass at all: the logits, values and layer outputs
  acting computed are the segment's, and the gradient of the loss is
  written out in NumPy (:meth:`BatchedA3C._ff_gradients`), through the
  heads, the linear layer and the convolutions (:mod:`npconv`);
* a network whose cell is an LSTM (``features`` -> the LSTM ->
  ``heads``: the LSTM-CNN, ChainerRL's A3CLSTM) runs the LSTM through the
  segment from the state it started with as one function
  (:mod:`lstm_segment`) and the heads in one batch in Chainer, and, when
  the LSTM reads the convolutions directly, its convolutions backward in
  NumPy from the outputs acting kept;
* any other model (the GRU-CNN, the mellowmax policy) trains through
  ChainerRL's own A3C update, and any other feed-forward one recomputes
  the segment's observations in one Chainer forward pass.

The value to bootstrap from is one more acting step with the weights of
the moment. The local weights do not change within a segment, so the
actions, the random numbers drawn, the loss and the gradient are
ChainerRL's (``tests/test_batched_a3c.py`` checks it against ChainerRL's own
``A3C``). The gradients are handed to the shared model without a copy.
Other recurrent models train as in ChainerRL.
"""
import chainer
import chainer.functions as F
import numpy as np

import chainerrl_compat  # noqa: F401
from chainerrl.agents import a3c
from chainerrl.distribution import sample_discrete_actions

from kernels.lstm_segment import lstm_segment
from models.recurrent_state import steps_one_lstm
from kernels.engine import ActingEngine
from kernels.graphs import groups_of, model_kind
from kernels.npconv import ConvStack
from models.networks import weights_changed


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
        self._grad_pairs = None     # (shared, local) parameters
        self._recurrent = bool(self.model.recurrent)
        # A recurrent model's (c, h) when the segment began (None: zero).
        self._segment_start = None

    def _batched_training(self):
        return not self._recurrent or steps_one_lstm(self.model)

    def _cell(self):
        return self.model.structure.cell_link

    def _lstm_state(self):
        """The LSTM's ``(c, h)`` now, or None (zero state)."""
        lstm = self._cell()
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
            kind = model_kind(self.model)
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
            self._cell().set_state(*map(chainer.Variable, state))
            self._last_features = features[0] if features else None
        else:
            scores, values, *features = self._acting(statevar)
            # The update's inputs: logits, values, each layer's output.
            self._last_features = ([scores, values] + features[0]
                                   if features else None)
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
        weights_changed(self.model)
        if self._convs:         # its weight matrices are the old ones
            self._convs = None

    def _conv_stack(self):
        """The network's convolutions in NumPy with the weights of the
        moment (:class:`npconv.ConvStack`: the LSTM-CNN's four with ELU,
        the A3CFF's three with ReLU), or False where npconv does not run
        the model."""
        if self._convs is None:
            self._convs = False
            if model_kind(self.model) is not None:
                st = self.model.structure
                # The LSTM segment reads the convolutions' output; the
                # feed-forward update is written for one dense ReLU layer.
                fits = st.outputs == 'policy' and all(
                    groups_of(c) == 1 for c in st.convs) and (
                    (st.cell == 'lstm' and not st.dense) or (
                        st.cell is None and len(st.dense) == 1
                        and st.activation == 'relu'))
                try:
                    if fits:
                        self._convs = ConvStack(st.convs, st.activation)
                except ValueError:      # a convolution npconv does not run
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
        with the graph the loss needs, and the LSTM-CNN's NumPy
        convolution pass whose gradients :meth:`_backward_convs` adds after
        the backward (or None). ``features``: every convolution's outputs
        for ``x``, computed while acting with these weights; the
        convolutions then only run backward."""
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
            self._cell(), features, self._segment_start)) + (conv_pass,)

    def _backward_convs(self, links, convs, grad):
        """Set the gradients of ``links``, the convolutions ``convs`` ran
        (kept), from ``grad`` at their output."""
        for link, (gW, gb) in zip(links, convs.backward(grad)):
            link.W.grad, link.b.grad = gW, gb

    def _hand_over_grads(self):
        """The shared model's gradients are this worker's arrays (no
        copy, unlike ``copy_param.copy_grad``: each update makes new
        ones, and the shared model's gradients are this process's own)."""
        if self._grad_pairs is None:
            shared = dict(self.shared_model.namedparams())
            self._grad_pairs = [(shared[name], param) for name, param
                                in self.model.namedparams()]
        for target, source in self._grad_pairs:
            target.grad = source.grad

    def _returns_and_advantages(self, steps, R, values):
        """Discounted returns and advantages of the segment's ``steps``
        from the bootstrap value ``R`` and the values ``(n,)``, newest
        first, as ChainerRL (the average reward moves as there)."""
        returns = np.zeros(len(steps), dtype=np.float32)
        advantages = np.zeros(len(steps), dtype=np.float32)
        for k in reversed(range(len(steps))):
            R *= self.gamma
            R += self.past_rewards[steps[k]]
            if self.use_average_reward:
                R -= self.average_reward
            advantage = R - float(values[k])
            if self.use_average_reward:
                self.average_reward += self.average_reward_tau * advantage
            returns[k] = R
            advantages[k] = advantage
        return returns, advantages

    def _check_finite(self, loss):
        if not np.isfinite(loss).all():
            raise NonFiniteTraining(
                'the A3C loss is {} at step {}: training diverged (lower '
                '--lr, or add --gradient-clipping); the checkpoints written '
                'so far are intact'.format(float(loss), self.t))

    def update(self, statevar):
        """ChainerRL's A3C update, from what acting computed or with the
        segment in one forward pass."""
        if not self._batched_training():
            return super().update(statevar)
        assert self.t_start < self.t
        steps = range(self.t_start, self.t)
        features = self._segment_features(steps)
        if not self._recurrent and features is not None:
            self._ff_gradients(steps, features, statevar)
        else:
            self._chainer_gradients(steps, features, statevar)
        self._hand_over_grads()
        self.optimizer.update()
        self.sync_parameters()

        # (ChainerRL's per-step log_prob, entropy and value dicts stay empty)
        self.past_states = {}
        self.past_rewards = {}
        self.past_actions.clear()
        self.past_features.clear()
        self.t_start = self.t

    def _loss_scales(self, n):
        """The factors of the policy and the value loss of an ``n``-step
        segment (ChainerRL's coefficients and normalisations)."""
        pi_scale, v_scale = self.pi_loss_coef, self.v_loss_coef
        if self.keep_loss_scale_same and n < self.t_max:
            pi_scale *= self.t_max / n
            v_scale *= self.t_max / n
        if self.normalize_grad_by_t_max:
            pi_scale /= n
            v_scale /= n
        return pi_scale, v_scale

    def _ff_gradients(self, steps, features, statevar):
        """The A3CFF's gradients of ChainerRL's A3C loss in NumPy, from
        what acting computed with these weights (``features``: logits,
        values and every layer's output for each step): no forward pass,
        and the backward written out.

        With ``p`` the policy, ``H`` its entropy, ``A`` the advantage and
        ``R`` the return of a step, the loss is ``pi_scale * (-log p(a) A
        - beta H) + v_scale * (v - R)^2 / 2``; its gradient at the logits
        is ``pi_scale * (A (p - onehot(a)) + beta p (log p + H))``, at the
        value ``v_scale * (v - R)``.
        """
        n = len(steps)
        R = 0.0
        if statevar is not None:
            # The value to bootstrap from: one acting step with the weights
            # of the moment (no gradient goes through it).
            R = float(self._acting(statevar)[1][0])
        scores, values, *conv_outputs, hidden = features
        actions = np.array([self.past_actions[i][0] for i in steps])
        returns, advantages = self._returns_and_advantages(steps, R, values)
        z = scores - scores.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(log_p)
        entropy = -(p * log_p).sum(axis=1)
        rows = np.arange(n)
        pi_scale, v_scale = self._loss_scales(n)
        self._check_finite(
            pi_scale * (-(log_p[rows, actions] * advantages).sum()
                        - self.beta * entropy.sum())
            + v_scale * ((values - returns) ** 2).sum() / 2)
        g_scores = advantages[:, None] * p
        g_scores += self.beta * p * (log_p + entropy[:, None])
        g_scores[rows, actions] -= advantages
        g_scores *= np.float32(pi_scale)
        g_values = np.float32(v_scale) * (values - returns)

        self.model.cleargrads()
        st = self.model.structure
        pi, v = st.policy, st.value
        pi.W.grad, pi.b.grad = g_scores.T @ hidden, g_scores.sum(axis=0)
        v.W.grad = g_values[None] @ hidden
        v.b.grad = g_values.sum(keepdims=True)
        g = g_scores @ pi.W.array + g_values[:, None] * v.W.array
        # Back through the head's last ReLU, its linear layer and the
        # convolutions (kept from acting).
        g *= hidden > 0
        linear, last = st.dense[0], conv_outputs[-1]
        linear.W.grad = g.T @ last.reshape(n, -1)
        linear.b.grad = g.sum(axis=0)
        convs = self._conv_stack()
        convs.keep(np.concatenate([self.past_states[i] for i in steps]),
                   conv_outputs)
        self._backward_convs(st.convs, convs,
                             (g @ linear.W.array).reshape(last.shape))

    def _chainer_gradients(self, steps, features, statevar):
        """The gradients of ChainerRL's A3C loss through Chainer, with the
        segment's observations in one forward pass (the LSTM-CNN's
        convolutions backward in NumPy from what acting kept)."""
        states = [self.past_states[i] for i in steps]
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
        returns, advantages = self._returns_and_advantages(
            steps, R, values.array)

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
        self._check_finite(loss.array)
        self.model.cleargrads()
        loss.backward()
        if conv_pass is not None:
            convs, conv_features = conv_pass
            self._backward_convs(self.model.structure.convs, convs,
                                 conv_features.grad)
