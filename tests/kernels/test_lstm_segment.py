"""A segment of the LSTM-CNN's LSTM as one function, against Chainer's
step-by-step LSTM."""
import chainer
import numpy as np
import pytest
from chainer import links as L

from kernels.lstm_segment import lstm_segment


def _steps(lstm, x, state):
    """Chainer's own LSTM stepped row by row (the reference)."""
    lstm.reset_state()
    if state is not None:
        lstm.set_state(chainer.Variable(state[0]), chainer.Variable(state[1]))
    return chainer.functions.concat([lstm(x[t:t + 1])
                                     for t in range(len(x))], axis=0)


@pytest.mark.parametrize('with_state', [False, True])
def test_outputs_and_gradients_equal_the_step_by_step_lstm(with_state):
    rng = np.random.RandomState(0)
    lstm = L.LSTM(6, 5)
    lstm.lateral.W.array[...] = rng.normal(size=(20, 5)).astype(np.float32)
    x = rng.normal(size=(7, 6)).astype(np.float32)
    state = None
    if with_state:
        state = tuple(rng.normal(size=(1, 5)).astype(np.float32)
                      for _ in range(2))
    weights = rng.normal(size=(7, 5)).astype(np.float32)

    grads = []
    for run in (lambda xv: lstm_segment(lstm, xv, state),
                lambda xv: _steps(lstm, xv, state)):
        lstm.cleargrads()
        xv = chainer.Variable(x.copy())
        h = run(xv)
        chainer.functions.sum(h * weights).backward()
        grads.append((h.array, xv.grad.copy(), lstm.upward.W.grad.copy(),
                      lstm.upward.b.grad.copy(), lstm.lateral.W.grad.copy()))
    for ours, reference in zip(*grads):
        np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)


def test_the_links_own_state_is_left_alone():
    lstm = L.LSTM(3, 2)
    lstm(np.ones((1, 3), np.float32))
    c, h = lstm.c.array.copy(), lstm.h.array.copy()
    lstm_segment(lstm, np.zeros((4, 3), np.float32))
    np.testing.assert_array_equal(lstm.c.array, c)
    np.testing.assert_array_equal(lstm.h.array, h)
