import chainer
import numpy as np
import pytest
from chainer import gradient_check

from guided_relu import guided_elu, guided_relu

X = np.array([[-1.0, 2.0, 0.5], [3.0, -0.5, 1.0]], dtype=np.float32)
GY = np.array([[1.0, -1.0, 2.0], [-3.0, 4.0, 0.5]], dtype=np.float32)


def _input_grad(train):
    x = chainer.Variable(X.copy())
    with chainer.using_config('train', train):
        y = guided_relu(x)
        y.grad = GY.copy()
        y.backward()
    return y.array, x.grad


def test_forward_is_max_with_zero_in_both_modes():
    expected = np.array([[0, 2, 0.5], [3, 0, 1]], dtype=np.float32)
    for train in (True, False):
        y, _ = _input_grad(train)
        np.testing.assert_array_equal(y, expected)


def test_backward_in_train_mode_is_plain_relu_gradient():
    _, gx = _input_grad(train=True)
    # gy where y > 0, whatever the sign of gy.
    np.testing.assert_array_equal(
        gx, np.array([[0, -1, 2], [-3, 0, 0.5]], dtype=np.float32))


def test_backward_in_test_mode_is_guided():
    _, gx = _input_grad(train=False)
    # Only where y > 0 and gy > 0.
    np.testing.assert_array_equal(
        gx, np.array([[0, 0, 2], [0, 0, 0.5]], dtype=np.float32))


def test_mode_is_read_when_backward_runs():
    x = chainer.Variable(X.copy())
    with chainer.using_config('train', True):
        y = guided_relu(x)
    with chainer.using_config('train', False):
        y.grad = GY.copy()
        y.backward()
    np.testing.assert_array_equal(x.grad, np.array(
        [[0, 0, 2], [0, 0, 0.5]], dtype=np.float32))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_numerical_gradient_in_train_mode(dtype):
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (3, 4)).astype(dtype)
    x[np.abs(x) < 0.1] = 0.5  # stay away from the kink at 0
    gy = rng.normal(size=(3, 4)).astype(dtype)
    ggx = rng.normal(size=(3, 4)).astype(dtype)
    with chainer.using_config('train', True):
        gradient_check.check_backward(guided_relu, x, gy, dtype=np.float64,
                                      eps=1e-3, atol=1e-3, rtol=1e-3)
        gradient_check.check_double_backward(
            guided_relu, x, gy, ggx, dtype=np.float64, eps=1e-3,
            atol=1e-3, rtol=1e-3)


def test_guided_elu_values_in_both_modes():
    x = np.array([-1.0, 0.5, 2.0, -0.2], dtype=np.float32)
    gy = np.array([1.0, -1.0, 2.0, -3.0], dtype=np.float32)
    slope = np.where(x > 0, 1.0, np.exp(x))
    for train, expected in ((True, gy * slope),
                            (False, gy * slope * (gy > 0))):
        v = chainer.Variable(x.copy())
        with chainer.using_config('train', train):
            y = guided_elu(v)
            y.grad = gy.copy()
            y.backward()
        np.testing.assert_allclose(y.array, np.where(x > 0, x, np.expm1(x)),
                                   rtol=1e-6)
        np.testing.assert_allclose(v.grad, expected, rtol=1e-6)


def test_guided_elu_numerical_gradient_in_train_mode():
    rng = np.random.RandomState(0)
    x = rng.uniform(-2, 2, (3, 5))
    x[np.abs(x) < 0.1] = 0.5
    with chainer.using_config('train', True):
        gradient_check.check_backward(guided_elu, x, rng.normal(size=x.shape),
                                      eps=1e-4, atol=1e-5, rtol=1e-5)
