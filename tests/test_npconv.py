"""The NumPy convolutions of the LSTM-CNN's training against Chainer's."""
import chainer
import chainer.functions as F
import numpy as np

from agents import A3CLSTMCNN
from engine import ActingEngine
from npconv import ConvELUStack


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

    stack = ConvELUStack(model.convs)
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
    kept = ConvELUStack(model.convs)
    kept.keep(x, layers)
    for (gW, gb), (eW, eb) in zip(kept.backward(gy), grads):
        np.testing.assert_allclose(gW, eW, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(gb, eb, rtol=1e-4, atol=1e-4)
