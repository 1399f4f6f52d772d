"""The in-place RMSprop is ChainerRL's, bit for bit."""
import copy

import numpy as np
from chainerrl.optimizers import rmsprop_async

from agents import A3CLSTMCNN
from rmsprop import InPlaceRMSpropAsync


def test_same_weights_and_state_bit_for_bit():
    np.random.seed(0)
    model = A3CLSTMCNN(4)
    models = [model, copy.deepcopy(model)]
    start = model.lstm.upward.W.array.copy()
    optimizers = [rmsprop_async.RMSpropAsync(lr=7e-4, eps=0.1, alpha=0.99),
                  InPlaceRMSpropAsync(lr=7e-4, eps=0.1, alpha=0.99)]
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
            opt.lr = 7e-4 * (1 - update / 10)   # a schedule moves lr
            opt.update()
    for (name, a), (_, b) in zip(models[0].namedparams(),
                                 models[1].namedparams()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=name)
        np.testing.assert_array_equal(a.update_rule.state['ms'],
                                      b.update_rule.state['ms'])
    assert not np.array_equal(models[1].lstm.upward.W.array, start)
