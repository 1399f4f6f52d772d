"""The shared optimizers: the in-place RMSprop is ChainerRL's bit for bit;
Adam is Chainer's, chosen by name and shared between workers."""
import copy
import multiprocessing as mp

import chainer
import numpy as np
import pytest
from chainerrl.optimizers import rmsprop_async

from agents import build_agent

from models.networks import A3CLSTMCNN
from training.runner import chainerrl_async
from models.optimizers import (OPTIMIZERS, InPlaceAdam, InPlaceRMSpropAsync,
                               make_optimizer, set_learning_rate)


@pytest.mark.parametrize('kind', ['rmsprop', 'adam'])
def test_same_weights_and_state_bit_for_bit(kind):
    np.random.seed(0)
    model = A3CLSTMCNN(4)
    models = [model, copy.deepcopy(model)]
    start = model.lstm.upward.W.array.copy()
    if kind == 'rmsprop':
        optimizers = [rmsprop_async.RMSpropAsync(lr=7e-4, eps=0.1,
                                                 alpha=0.99),
                      InPlaceRMSpropAsync(lr=7e-4, eps=0.1, alpha=0.99)]
        states = ['ms']
    else:
        optimizers = [chainer.optimizers.Adam(alpha=1e-4),
                      InPlaceAdam(alpha=1e-4)]
        states = ['m', 'v']
    for m, opt in zip(models, optimizers):
        opt.setup(m)
    rng = np.random.RandomState(1)
    for update in range(4):
        grads = [rng.normal(scale=10.0 ** rng.randint(-4, 2),
                            size=p.shape).astype(np.float32)
                 for p in model.params()]
        for m, opt in zip(models, optimizers):
            for p, g in zip(m.params(), grads):
                p.grad = g.copy()
            # A schedule moves the learning rate.
            set_learning_rate(opt, 7e-4 * (1 - update / 10))
            opt.update()
    for (name, a), (_, b) in zip(models[0].namedparams(),
                                 models[1].namedparams()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=name)
        for state in states:
            np.testing.assert_array_equal(a.update_rule.state[state],
                                          b.update_rule.state[state])
    assert not np.array_equal(models[1].lstm.upward.W.array, start)


def test_make_optimizer_and_learning_rate():
    rms = make_optimizer('rmsprop', 7e-4, rmsprop_epsilon=1e-3)
    assert isinstance(rms, InPlaceRMSpropAsync)
    assert (rms.lr, rms.eps, rms.alpha) == (7e-4, 1e-3, 0.99)
    adam = make_optimizer('adam', 1e-4)
    assert isinstance(adam, InPlaceAdam)
    assert (adam.alpha, adam.beta1, adam.beta2, adam.eps) == (
        1e-4, 0.9, 0.999, 1e-8)
    set_learning_rate(rms, 3e-4)
    set_learning_rate(adam, 5e-5)
    assert rms.lr == 3e-4 and adam.alpha == 5e-5
    with pytest.raises(ValueError, match='unknown optimizer'):
        make_optimizer('sgd', 1e-3)


def test_adam_step_by_hand():
    # One Adam update of a single weight: m = 0.1 g, v = 0.001 g^2, bias
    # corrected to g and g^2, so the step is alpha * g / (|g| + eps).
    link = chainer.Link()
    with link.init_scope():
        link.w = chainer.Parameter(np.array([1.0, -2.0], np.float32))
    opt = make_optimizer('adam', 0.01)
    opt.setup(link)
    link.w.grad = np.array([0.5, -4.0], np.float32)
    opt.update()
    np.testing.assert_allclose(link.w.array, [1.0 - 0.01, -2.0 + 0.01],
                               rtol=1e-6)
    set_learning_rate(opt, 0.0)
    opt.update()
    np.testing.assert_allclose(link.w.array, [0.99, -1.99], rtol=1e-6)


@pytest.mark.parametrize('name', OPTIMIZERS)
def test_workers_share_the_optimizer_state(name):
    # As train_agent_async shares it: a forked worker's update moves the
    # weights and the optimizer's statistics that the parent sees.
    agent = build_agent('LSTM', 4, optimizer=name, lr=1e-3)
    shared = chainerrl_async.extract_shared_objects_from_agent(agent)
    chainerrl_async.set_shared_objects(agent, shared)
    param = agent.shared_model.lstm.upward.W
    before = param.array.copy()
    state_key = 'ms' if name == 'rmsprop' else 'v'

    def worker():
        for p in agent.shared_model.params():
            p.grad = np.ones_like(p.array)
        agent.optimizer.update()

    process = mp.get_context('fork').Process(target=worker)
    process.start()
    process.join()
    assert process.exitcode == 0
    assert not np.array_equal(param.array, before)
    assert (param.update_rule.state[state_key] > 0).all()
