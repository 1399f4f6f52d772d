"""Batched A3C training is ChainerRL's A3C, computed in one pass a segment.

Two agents start from the same weights and see the same observations and
rewards with the same random numbers: ChainerRL's own ``A3C`` and this
suite's ``BatchedA3C``. They must take the same actions and end with the
same shared weights, through full segments, an episode that ends mid-segment
(``done``) and one that is cut off (bootstrapped from the last state).
"""
import copy

import numpy as np
import pytest
from chainerrl.agents import a3c
from chainerrl.optimizers import rmsprop_async
from threadpoolctl import threadpool_limits

from models.networks import A3CFF, A3CLSTMCNN, ARCHS, phi
from training.batched_a3c import BatchedA3C
from kernels.engine import ActingEngine


def make_pair(mellowmax=False, lstm=False, **kwargs):
    np.random.seed(3)
    model = A3CLSTMCNN(6) if lstm else A3CFF(6, mellowmax=mellowmax)
    agents = []
    for cls in (a3c.A3C, BatchedA3C):
        m = copy.deepcopy(model)
        opt = rmsprop_async.RMSpropAsync(lr=1e-3, eps=1e-1, alpha=0.99)
        opt.setup(m)
        agents.append(cls(m, opt, t_max=5, gamma=0.99, beta=1e-2,
                          phi=phi, **kwargs))
    return agents


def play(agent, seed, shape=(4, 84, 84)):
    """23 steps: episodes of 12 (done) and 7 (cut off), then 4 more."""
    rng = np.random.RandomState(seed)
    np.random.seed(seed)
    actions = []
    obs, reward = rng.randint(0, 256, shape).astype(np.uint8), 0.0
    for t in range(1, 24):
        actions.append(int(agent.act_and_train(obs, reward)))
        obs = rng.randint(0, 256, shape).astype(np.uint8)
        reward = float(rng.choice([-1.0, 0.0, 1.0]))
        if t in (12, 19):
            agent.stop_episode_and_train(obs, reward, done=(t == 12))
            obs, reward = rng.randint(0, 256, shape).astype(np.uint8), 0.0
    return actions


@pytest.mark.parametrize('kwargs', [
    {},
    {'normalize_grad_by_t_max': True, 'keep_loss_scale_same': True,
     'v_loss_coef': 0.5},
    {'use_average_reward': True},
    {'mellowmax': True},
    {'lstm': True},
    {'lstm': True, 'normalize_grad_by_t_max': True,
     'keep_loss_scale_same': True, 'use_average_reward': True},
])
def test_batched_update_equals_chainerrl_a3c(kwargs):
    mellowmax = kwargs.get('mellowmax', False)
    lstm = kwargs.get('lstm', False)
    reference, batched = make_pair(**kwargs)
    kwargs.pop('mellowmax', None)
    kwargs.pop('lstm', None)
    start = {n: p.array.copy() for n, p in
             reference.shared_model.namedparams()}
    shape = (1, 80, 80) if lstm else (4, 84, 84)
    paths = []
    for path in ('_ff_gradients', '_chainer_gradients'):
        def spy(*args, _path=path, _method=getattr(batched, path)):
            paths.append(_path)
            return _method(*args)
        setattr(batched, path, spy)
    with threadpool_limits(limits=1):
        ref_actions = play(reference, 11, shape)
        actions = play(batched, 11, shape)
    assert actions == ref_actions
    # The A3CFF's gradients come from what acting computed, written out in
    # NumPy; the LSTM-CNN's and the mellowmax policy's through Chainer.
    expected_path = ('_chainer_gradients' if lstm or mellowmax
                     else '_ff_gradients')
    assert paths == [expected_path] * 5
    if not lstm and not mellowmax:
        assert batched._acting.extra == ['conv1', 'conv2', 'conv3',
                                         'hidden']
        assert sorted(batched.past_features) == [19, 20, 21, 22]
    # The suite's softmax-policy networks (A3CFF, the LSTM-CNN) act through
    # ONNX Runtime; the mellowmax policy through Chainer.
    assert isinstance(batched._acting, ActingEngine) != mellowmax
    assert batched._batched_training()
    if lstm:
        # Acting went on with the state ChainerRL's model has: the same
        # values, without a graph.
        ref_lstm, lstm_link = reference.model.lstm, batched.model.lstm
        np.testing.assert_allclose(lstm_link.h.array, ref_lstm.h.array,
                                   rtol=1e-4, atol=1e-6)
        assert lstm_link.h.creator is None
        # The convolutions ran forward only while acting: the updates
        # backpropagated through the outputs acting kept.
        assert batched._acting.extra == ['conv1', 'conv2', 'conv3', 'conv4']
        assert sorted(batched.past_features) == [19, 20, 21, 22]
    assert batched.t == reference.t == 23
    # 3 full segments + the two episode ends = 5 updates moved the weights.
    moved = 0
    ref_params = dict(reference.shared_model.namedparams())
    for name, param in batched.shared_model.namedparams():
        expected = ref_params[name].array
        np.testing.assert_allclose(param.array, expected, rtol=1e-4,
                                   atol=1e-6, err_msg=name)
        moved += not np.array_equal(expected, start[name])
    assert moved == len(start)
    # The acting copy is re-synced after every update.
    for (_, a), (_, b) in zip(batched.model.namedparams(),
                              batched.shared_model.namedparams()):
        np.testing.assert_array_equal(a.array, b.array)
    # The last 4 steps wait for the next update.
    assert sorted(batched.past_actions) == sorted(reference.past_states) == [
        19, 20, 21, 22]
    assert batched.average_value == pytest.approx(
        reference.average_value, rel=1e-4)
    assert batched.average_entropy == pytest.approx(
        reference.average_entropy, rel=1e-5)
    if kwargs.get('use_average_reward'):
        assert batched.average_reward == pytest.approx(
            reference.average_reward, rel=1e-4)
        assert reference.average_reward != 0


def test_a_non_finite_loss_stops_the_update_before_any_weight_moves():
    from training.batched_a3c import NonFiniteTraining
    np.random.seed(3)
    model = A3CFF(6)
    opt = rmsprop_async.RMSpropAsync(lr=1e-3, eps=1e-1, alpha=0.99)
    opt.setup(model)
    agent = BatchedA3C(model, opt, t_max=5, gamma=0.99, beta=1e-2, phi=phi)
    before = {name: p.array.copy() for name, p in model.namedparams()}
    obs = np.zeros((4, 84, 84), np.uint8)
    with pytest.raises(NonFiniteTraining, match='training diverged'):
        for _ in range(6):        # the 6th call updates on 5 steps
            agent.act_and_train(obs, float('nan'))
    for name, p in model.namedparams():
        np.testing.assert_array_equal(p.array, before[name])


@pytest.mark.parametrize('arch, path', [
    ('ChainerRLFF', '_ff_gradients'),
    ('ChainerRLLSTM', '_chainer_gradients'),
    ('GRU', None)])
def test_every_network_kind_trains_as_chainerrl_a3c(arch, path):
    """Each network's declared structure picks the update: ChainerRL's
    A3CFF through the NumPy update (one dense ReLU layer), its A3CLSTM
    through the LSTM segment, the GRU-CNN through ChainerRL's own update;
    the weights end as ChainerRL's A3C leaves them."""
    np.random.seed(3)
    model = ARCHS[arch].make_model(6, 4)
    agents = []
    for cls in (a3c.A3C, BatchedA3C):
        m = copy.deepcopy(model)
        opt = rmsprop_async.RMSpropAsync(lr=1e-3, eps=1e-1, alpha=0.99)
        opt.setup(m)
        agents.append(cls(m, opt, t_max=5, gamma=0.99, beta=1e-2, phi=phi))
    reference, batched = agents
    paths = []
    for name in ('_ff_gradients', '_chainer_gradients'):
        def spy(*args, _path=name, _method=getattr(batched, name)):
            paths.append(_path)
            return _method(*args)
        setattr(batched, name, spy)
    shape = (model.structure.convs[0].W.shape[1], model.input_size,
             model.input_size)
    with threadpool_limits(limits=1):
        assert play(batched, 11, shape) == play(reference, 11, shape)
    assert paths == ([path] * 5 if path else [])
    assert batched._batched_training() == (path is not None)
    ref_params = dict(reference.shared_model.namedparams())
    for name, param in batched.shared_model.namedparams():
        np.testing.assert_allclose(param.array, ref_params[name].array,
                                   rtol=1e-4, atol=1e-6, err_msg=name)
