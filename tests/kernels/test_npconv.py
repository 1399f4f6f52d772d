"""The NumPy convolutions of training (the LSTM-CNN's with ELU, the A3CFF's
with ReLU) against Chainer's."""
import chainer
import chainer.functions as F
import numpy as np
import pytest

from models.networks import A3CFF, A3CLSTMCNN
from kernels.engine import ActingEngine
from kernels.npconv import ConvStack


def _chainer_pass(convs, x, gy):
    """Output and weight/bias gradients of Chainer's convolutions + ELU."""
    h = chainer.Variable(x)
    for link in convs:
        link.cleargrads()
        h = F.elu(link(h))
    h.grad = gy
    h.backward()
    return h.array, [(link.W.grad.copy(), link.b.grad.copy())
                     for link in convs]


def test_forward_backward_and_kept_outputs_match_chainer():
    np.random.seed(0)
    model = A3CLSTMCNN(4)
    rng = np.random.RandomState(1)
    x = rng.uniform(0, 1, (6, 1, 80, 80)).astype(np.float32)
    gy = rng.normal(size=(6, 32, 5, 5)).astype(np.float32)
    expected, grads = _chainer_pass(model.convs, x, gy)

    stack = ConvStack(model.convs, 'elu')
    y = stack.forward(x, keep=True)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-6)
    for (gW, gb), (eW, eb) in zip(stack.backward(gy), grads):
        np.testing.assert_allclose(gW, eW, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(gb, eb, rtol=1e-4, atol=1e-4)

    # The acting pass's outputs (ONNX Runtime, one frame at a time) stand
    # in for the forward: the same gradients.
    acting = ActingEngine(model, features=True)
    outputs = [acting(x[i:i + 1])[3] for i in range(len(x))]
    layers = [np.concatenate(layer) for layer in zip(*outputs)]
    assert [a.shape for a in layers] == [
        (6, 32, 40, 40), (6, 32, 20, 20), (6, 32, 10, 10), (6, 32, 5, 5)]
    np.testing.assert_allclose(layers[-1], expected, rtol=1e-4, atol=1e-6)
    kept = ConvStack(model.convs, 'elu')
    kept.keep(x, layers)
    for (gW, gb), (eW, eb) in zip(kept.backward(gy), grads):
        np.testing.assert_allclose(gW, eW, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(gb, eb, rtol=1e-4, atol=1e-4)


def test_relu_head_from_acting_outputs_matches_chainer():
    """The A3CFF's three convolutions with ReLU, backward from the outputs
    its acting pass (ONNX Runtime, with ``features``) hands out: the
    weight gradients Chainer's backward gives, and ``hidden`` is the
    head's output."""
    np.random.seed(0)
    model = A3CFF(5)
    rng = np.random.RandomState(2)
    x = rng.uniform(0, 1, (5, 4, 84, 84)).astype(np.float32)
    gy = rng.normal(size=(5, 64, 7, 7)).astype(np.float32)
    convs = list(model.head[:3])
    h = chainer.Variable(x)
    for link in convs:
        link.cleargrads()
        h = F.relu(link(h))
    h.grad = gy
    h.backward()
    grads = [(link.W.grad.copy(), link.b.grad.copy()) for link in convs]

    acting = ActingEngine(model, features=True)
    assert acting.extra == ['conv1', 'conv2', 'conv3', 'hidden']
    outputs = [acting(x[i:i + 1])[2] for i in range(len(x))]
    layers = [np.concatenate(layer) for layer in zip(*outputs)]
    assert [a.shape for a in layers] == [
        (5, 32, 20, 20), (5, 64, 9, 9), (5, 64, 7, 7), (5, 256)]
    np.testing.assert_allclose(layers[2], h.array, rtol=1e-4, atol=1e-6)
    with chainer.no_backprop_mode():
        hidden = model.head(x).array
    np.testing.assert_allclose(layers[3], hidden, rtol=1e-4, atol=1e-5)
    stack = ConvStack(convs, 'relu')
    stack.keep(x, layers[:3])
    for (gW, gb), (eW, eb) in zip(stack.backward(gy), grads):
        assert gW.shape == eW.shape
        np.testing.assert_allclose(gW, eW, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(gb, eb, rtol=1e-4, atol=1e-4)
    # A gradient only where the last ReLU was off passes nothing: every
    # weight and bias gradient is zero.
    off = layers[2] <= 0
    stack.keep(x, layers[:3])
    zero = stack.backward(np.where(off, gy, 0).astype(np.float32))
    for gW, gb in zero:
        assert not gW.any() and not gb.any()


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match='unknown activation'):
        ConvStack(A3CLSTMCNN(4).convs, 'tanh')
