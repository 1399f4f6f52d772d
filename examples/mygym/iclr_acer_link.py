"""The convolutional head shared by actor and critic (ICLR ACER / DQN NIPS).

Both heads take ``(batch, n_input_channels, S, S)`` float32 input, usually
the last 4 preprocessed frames scaled to [0, 1], and return
``(batch, n_output_channels)`` features. The activation (ReLU, the guided
ReLU of :mod:`guided_relu`, ...) is injected so that the same head serves
training and guided backpropagation.
"""
import chainer
from chainer import functions as F
from chainer import links as L


class _ConvHead(chainer.ChainList):
    """Three convolutions and one linear layer, each followed by activation."""

    def __init__(self, n_input_channels, n_output_channels, n_flat,
                 activation, bias):
        self.n_input_channels = n_input_channels
        self.n_output_channels = n_output_channels
        self.activation = activation
        super().__init__(
            L.Convolution2D(n_input_channels, 32, ksize=8, stride=4,
                            initial_bias=bias),
            L.Convolution2D(32, 64, ksize=4, stride=2, initial_bias=bias),
            L.Convolution2D(64, 64, ksize=3, stride=1, initial_bias=bias),
            L.Linear(n_flat, n_output_channels, initial_bias=bias),
        )

    def __call__(self, state):
        h = state
        for layer in self:
            h = self.activation(layer(h))
        return h


class ICLRACERHead(_ConvHead):
    """Head for 84x84 input.

    Shapes: 84 -> conv 8x8/4 -> 32x20x20 -> conv 4x4/2 -> 64x9x9
    -> conv 3x3/1 -> 64x7x7 = 3136 -> linear -> 256.
    """

    input_size = 84

    def __init__(self, n_input_channels=4, n_output_channels=256,
                 activation=F.relu, bias=0.1):
        super().__init__(n_input_channels, n_output_channels, 3136,
                         activation, bias)


class ICLRACERHeadMini(_ConvHead):
    """Head for 60x60 input.

    Shapes: 60 -> 32x14x14 -> 64x6x6 -> 64x4x4 = 1024 -> linear -> 256.
    """

    input_size = 60

    def __init__(self, n_input_channels=4, n_output_channels=256,
                 activation=F.relu, bias=0.1):
        super().__init__(n_input_channels, n_output_channels, 1024,
                         activation, bias)
