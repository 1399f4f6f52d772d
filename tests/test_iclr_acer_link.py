import chainer
import numpy as np
from chainer import functions as F

from guided_relu import guided_relu
from iclr_acer_link import ICLRACERHead, ICLRACERHeadMini


def test_head_shapes_84():
    head = ICLRACERHead(activation=guided_relu)
    x = np.zeros((2, 4, 84, 84), dtype=np.float32)
    assert head(x).shape == (2, 256)
    assert head[3].W.shape == (256, 3136)
    assert [layer.W.shape for layer in head[:3]] == [
        (32, 4, 8, 8), (64, 32, 4, 4), (64, 64, 3, 3)]


def test_mini_head_shapes_60():
    head = ICLRACERHeadMini(n_input_channels=1)
    assert head(np.zeros((3, 1, 60, 60), dtype=np.float32)).shape == (3, 256)
    assert head[3].W.shape == (256, 1024)


def test_activation_is_injected_and_applied_after_every_layer():
    calls = []

    def counting_relu(h):
        calls.append(h.shape)
        return F.relu(h)

    head = ICLRACERHead(activation=counting_relu)
    out = head(np.random.rand(1, 4, 84, 84).astype(np.float32))
    assert calls == [(1, 32, 20, 20), (1, 64, 9, 9), (1, 64, 7, 7), (1, 256)]
    assert (out.array >= 0).all()


def test_identity_activation_makes_the_head_affine():
    head = ICLRACERHead(activation=lambda h: h)
    rng = np.random.RandomState(0)
    a, b = rng.rand(2, 1, 4, 84, 84).astype(np.float32)
    zero = np.zeros_like(a)
    with chainer.no_backprop_mode():
        f = lambda x: head(x).array  # noqa: E731
        lhs = f(a + b) - f(zero)
        rhs = (f(a) - f(zero)) + (f(b) - f(zero))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-3, atol=1e-3)
