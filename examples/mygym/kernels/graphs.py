"""The suite's networks as ONNX graphs, built from their Chainer weights.

Built with ``onnx.helper``, run by :mod:`kernels.engine`'s sessions:

* :func:`ff_graph`: ``A3CFF`` (the ICLR-ACER head, ReLU): input ``x``
  ``(N, C, H, W)``; outputs ``scores`` ``(N, n_actions)`` (the policy's
  logits) and ``values`` ``(N,)``.
* :func:`lstm_graph`: one step of ``A3CLSTMCNN``: inputs ``x``
  ``(N, 1, 80, 80)``, ``c`` and ``h`` ``(N, 256)``; outputs ``scores``,
  ``values``, ``c_next``, ``h_next`` (gates as Chainer's ``F.lstm``: the
  four pre-activations of a unit adjacent, ``a, i, f, o``).
* :func:`ff_backward_graph`: the A3CFF's input gradient (guided or plain)
  from the activations of its forward pass.

``masked=True`` graphs score ``K * I + (1 - K) * F`` for a batch of keep
masks; ``live`` graphs take the weights as inputs (training workers);
``features`` graphs also hand out every layer's output.
"""
import numpy as np


def model_kind(model):
    """The kind a network declares (:class:`networks.SuiteNetwork`:
    ``'ff'``, ``'lstm'``), or None: the engine runs those two only."""
    return getattr(model, 'kind', None)


class EngineError(RuntimeError):
    """The engine cannot run here (missing package, no GPU)."""


def _onnx():
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as e:          # pragma: no cover - in requirements
        raise EngineError('the onnx package is missing: {}'.format(e))
    return onnx, TensorProto, helper, numpy_helper


class _Graph:
    """A small builder: named initialisers and nodes, unique names.

    With ``live`` (a list), the model's weights become graph inputs instead
    of constants, and ``(input name, chainer.Parameter)`` pairs are added
    to ``live``: the caller feeds each parameter's array of the moment.
    """

    def __init__(self, live=None):
        _, self.TensorProto, self.helper, self.numpy_helper = _onnx()
        self.nodes, self.inits, self.count = [], [], 0
        self.live = live
        self.weight_inputs = []

    def weight(self, param):
        """A parameter's array: a constant, or a live input."""
        if self.live is None:
            return self.const(param.array.astype(np.float32))
        name = self.name('param')
        self.live.append((name, param))
        self.weight_inputs.append((name, list(param.shape)))
        return name

    def name(self, prefix):
        self.count += 1
        return '{}_{}'.format(prefix, self.count)

    def const(self, array, prefix='w'):
        name = self.name(prefix)
        self.inits.append(self.numpy_helper.from_array(
            np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, inputs, n_out=1, **attrs):
        outs = [self.name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(self.helper.make_node(op_type, inputs, outs,
                                                **attrs))
        return outs[0] if n_out == 1 else outs

    def conv(self, x, link, activation):
        ksize = link.W.shape[2:]
        stride = link.stride if isinstance(link.stride, tuple) \
            else (link.stride,) * 2
        pad = link.pad if isinstance(link.pad, tuple) else (link.pad,) * 2
        inputs = [x, self.weight(link.W)]
        if link.b is not None:
            inputs.append(self.weight(link.b))
        y = self.op('Conv', inputs, kernel_shape=list(ksize),
                    strides=list(stride), pads=[pad[0], pad[1]] * 2)
        return self.op(activation, [y])

    def linear(self, x, link):
        """``x @ W.T + b`` (Chainer's Linear; flattens 4-D input)."""
        inputs = [x, self.weight(link.W)]
        if link.b is not None:
            inputs.append(self.weight(link.b))
        return self.op('Gemm', inputs, transB=1)

    def masking(self, channels, size):
        """Nodes that make ``x`` from the inputs ``keep`` ``(N, H, W)``,
        ``image`` and ``fill`` ``(C, H, W)``: ``fill + keep * (image -
        fill)``, i.e. ``K * I + (1 - K) * F`` for every mask."""
        keep = self.op('Unsqueeze', ['keep', self.const(
            np.array([1], np.int64), 'ax')])
        diff = self.op('Sub', ['image', 'fill'])
        x = self.op('Add', ['fill', self.op('Mul', [keep, diff])])
        return x, [('keep', ['N', size, size]),
                   ('image', [channels, size, size]),
                   ('fill', [channels, size, size])]

    def model(self, inputs, outputs):
        helper, tp = self.helper, self.TensorProto

        def info(name, shape, kind=tp.FLOAT):
            return helper.make_tensor_value_info(name, kind, shape)
        graph = helper.make_graph(self.nodes, 'a3c',
                                  [info(*spec) for spec in
                                   inputs + self.weight_inputs],
                                  [info(*spec) for spec in outputs],
                                  self.inits)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid('', 17)])
        model.ir_version = 8
        return model


def _output_links(model):
    return model.pi.model.output, model.v.model.output


def ff_graph(model, masked=False, live=None, features=False):
    """The ONNX graph of an ``A3CFF`` (see the module); ``masked``: the
    inputs are ``keep``, ``image`` and ``fill`` (:meth:`_Graph.masking`)
    instead of ``x``; ``live``: the weights are inputs (see
    :class:`_Graph`); ``features``: each layer's output after its ReLU is
    an output too, ``conv1`` .. ``conv3`` ``(N, O, H, W)`` and ``hidden``
    ``(N, 256)`` (what the heads read)."""
    g = _Graph(live)
    head = list(model.head)
    channels = head[0].W.shape[1]
    size = model.input_size
    inputs = [('x', ['N', channels, size, size])]
    h = 'x'
    if masked:
        h, inputs = g.masking(channels, size)
    feature_outputs = []
    for k, conv in enumerate(head[:-1], 1):
        h = g.conv(h, conv, 'Relu')
        if features:
            g.nodes.append(g.helper.make_node('Identity', [h],
                                              ['conv{}'.format(k)]))
            feature_outputs.append(('conv{}'.format(k), [
                'N', conv.W.shape[0], 'H{}'.format(k), 'W{}'.format(k)]))
    return g.model(inputs, _ff_tail(g, h, model, features)
                   + feature_outputs)


def _ff_tail(g, h, model, features=False):
    """The A3CFF after its convolutions: the dense layer and the heads,
    from the last convolution's output ``h``; returns the outputs'
    shapes."""
    head = list(model.head)
    h = g.op('Flatten', [h], axis=1)
    h = g.op('Relu', [g.linear(h, head[-1])])
    hidden = []
    if features:
        g.nodes.append(g.helper.make_node('Identity', [h], ['hidden']))
        hidden.append(('hidden', ['N', head[-1].W.shape[0]]))
    _heads(g, h, model)
    pi = _output_links(model)[0]
    return [('scores', ['N', pi.W.shape[0]]), ('values', ['N'])] + hidden


def _heads(g, h, model):
    """``scores`` and ``values`` of the heads' input ``h``."""
    pi, v = _output_links(model)
    g.nodes.append(g.helper.make_node('Identity', [g.linear(h, pi)],
                                      ['scores']))
    g.nodes.append(g.helper.make_node(
        'Squeeze', [g.linear(h, v), g.const(np.array([1], np.int64), 'ax')],
        ['values']))


def lstm_graph(model, masked=False, live=None, features=False):
    """The ONNX graph of one step of an ``A3CLSTMCNN`` (see the module);
    ``masked``: inputs ``keep``, ``image``, ``fill`` as :func:`ff_graph`'s,
    and one state ``c``, ``h`` ``(1, 256)`` for every mask; ``live`` as
    :func:`ff_graph`'s; ``features``: each convolution's output (after its
    ELU) is an output too, ``conv1`` .. ``conv4``."""
    g = _Graph(live)
    channels = model.convs[0].W.shape[1]
    units = model.lstm.state_size
    size = model.input_size
    inputs = [('x', ['N', channels, size, size])]
    h = 'x'
    state_rows = 'N'
    if masked:
        h, inputs = g.masking(channels, size)
        state_rows = 1
    conv_outputs = []
    for k, conv in enumerate(model.convs, 1):
        h = g.conv(h, conv, 'Elu')
        if features:
            g.nodes.append(g.helper.make_node('Identity', [h],
                                              ['conv{}'.format(k)]))
            conv_outputs.append(('conv{}'.format(k), ['N', conv.W.shape[0],
                                                      'H{}'.format(k),
                                                      'W{}'.format(k)]))
    return g.model(inputs + [('c', [state_rows, units]),
                             ('h', [state_rows, units])],
                   _lstm_tail(g, h, model) + conv_outputs)


def _lstm_tail(g, h, model):
    """The A3CLSTMCNN after its convolutions: one LSTM step from the
    inputs ``c`` and ``h`` and the heads, from the last convolution's
    output ``h``; returns the outputs' shapes."""
    h = g.op('Flatten', [h], axis=1)
    z = g.op('Add', [g.linear(h, model.lstm.upward),
                     g.op('Gemm', ['h', g.weight(model.lstm.lateral.W)],
                          transB=1)])
    return _lstm_cell(g, z, model)


def _lstm_cell(g, z, model):
    """The LSTM step from its gates' pre-activations ``z`` ``(N, 4 U)``
    (Chainer's order) and the input ``c``, and the heads."""
    units = model.lstm.state_size
    z = g.op('Reshape', [z, g.const(np.array([-1, units, 4], np.int64),
                                    'shape')])
    a, i, f, o = g.op('Split', [z, g.const(np.array([1, 1, 1, 1], np.int64),
                                           'split')], n_out=4, axis=2)
    squeeze = g.const(np.array([2], np.int64), 'ax')
    a, i, f, o = [g.op('Squeeze', [t, squeeze]) for t in (a, i, f, o)]
    a = g.op('Tanh', [a])
    i, f, o = [g.op('Sigmoid', [t]) for t in (i, f, o)]
    c = g.op('Add', [g.op('Mul', [a, i]), g.op('Mul', [f, 'c'])])
    h_next = g.op('Mul', [o, g.op('Tanh', [c])])
    g.nodes.append(g.helper.make_node('Identity', [c], ['c_next']))
    g.nodes.append(g.helper.make_node('Identity', [h_next], ['h_next']))
    _heads(g, h_next, model)
    pi = _output_links(model)[0]
    return [('scores', ['N', pi.W.shape[0]]), ('values', ['N']),
            ('c_next', ['N', units]), ('h_next', ['N', units])]


def tail_linear(model):
    """The linear map that starts what follows the convolutions (the
    A3CFF's dense layer, the LSTM's input product): its weights per
    position of the last feature map, ``(h * w, C, U)``, and its bias."""
    link = model.lstm.upward if model.recurrent else list(model.head)[-1]
    channels = conv_layers(model)[0][-1].W.shape[0]
    w = link.W.array.astype(np.float32)
    per_position = w.reshape(len(w), channels, -1).transpose(2, 1, 0)
    bias = (np.zeros(len(w), np.float32) if link.b is None
            else link.b.array.astype(np.float32))
    return np.ascontiguousarray(per_position), bias


def post_graph(model):
    """What follows the tail's linear map (:func:`tail_linear`), from its
    output ``pre`` ``(N, U)``: the A3CFF's ReLU and heads, or the LSTM
    step (with the lateral product already in ``pre``; input ``c``
    ``(1, U)``) and heads."""
    g = _Graph()
    units = len(tail_linear(model)[1])
    inputs = [('pre', ['N', units])]
    if model.recurrent:
        inputs.append(('c', [1, model.lstm.state_size]))
    return g.model(inputs, _after_linear(g, 'pre', model))


def _after_linear(g, z, model):
    """The A3CFF's ReLU and heads, or the LSTM step (input ``c``) and
    heads, from the tail's linear map ``z``; returns the outputs'
    shapes."""
    if model.recurrent:
        return _lstm_cell(g, z, model)
    _heads(g, g.op('Relu', [z]), model)
    pi = _output_links(model)[0]
    return [('scores', ['N', pi.W.shape[0]]), ('values', ['N'])]


def batched_product_graph(weights):
    """``delta`` ``(P, m, C)`` -> ``y`` ``(P, m, U)``: each position's
    rows times that position's ``weights`` ``(P, C, U)``."""
    g = _Graph()
    y = g.op('MatMul', ['delta', g.const(weights)])
    g.nodes.append(g.helper.make_node('Identity', [y], ['y']))
    return g.model([('delta', [weights.shape[0], 'm', weights.shape[1]])],
                   [('y', [weights.shape[0], 'm', weights.shape[2]])])


def conv_layers(model):
    """The convolutions of a network the engine runs, in order, and the
    activation after each (an ONNX op name)."""
    if model.recurrent:
        return list(model.convs), 'Elu'
    return list(model.head)[:-1], 'Relu'


def rows_graph(matrix, bias, activation, channels, zero_row=False):
    """A convolution as a product of its patches, gathered from a table of
    rows: ``table`` ``(R, channels)`` (one input position's channels a
    row) and ``index`` ``(N, T)`` int64 (the rows of each output's ``T``
    kernel taps, in the order of ``matrix``'s rows) -> ``y``
    ``activation(patches @ matrix + bias)`` ``(N, O)`` (an ONNX op name),
    after one row of zeros with ``zero_row`` (``(N + 1, O)``: the row a
    padded position of the next layer's input names)."""
    g = _Graph()
    taps = matrix.shape[0] // channels
    z = g.op(activation, [g.op('Add', [g.op('MatMul', [
        _gathered_rows(g, matrix.shape[0]), g.const(matrix)]),
        g.const(bias)])])
    if zero_row:
        g.nodes.append(g.helper.make_node('Concat', [g.const(np.zeros(
            (1, matrix.shape[1]), np.float32)), z], ['y'], axis=0))
    else:
        g.nodes.append(g.helper.make_node('Identity', [z], ['y']))
    return g.model([('table', ['R', channels]),
                    ('index', ['N', taps], g.TensorProto.INT64)],
                   [('y', ['N + 1' if zero_row else 'N', matrix.shape[1]])])


def chained(models):
    """One model that runs ``models`` one after the other, each one's
    output ``y`` feeding the next one's input ``table``; every input and
    output name of ``models[i]`` gets the prefix ``g{i}_``. One run of it
    took about two thirds of the time of one run per model (Pong's
    Greydanus masks, the later convolutions and the tail: 10.8 against
    16 to 18 ms, the same numbers bit for bit): no output is copied out
    and fed back between them."""
    from onnx import compose
    merged = compose.add_prefix(models[0], 'g0_')
    for i, model in enumerate(models[1:], 1):
        merged = compose.merge_models(
            merged, compose.add_prefix(model, 'g{}_'.format(i)),
            io_map=[('g{}_y'.format(i - 1), 'g{}_table'.format(i))])
    for node in merged.graph.node:      # named after their first output:
        node.name = node.name or node.output[0]   # g{i}_..., for profiles
    return merged


def _gathered_rows(g, width):
    """The rows of the input ``table`` that each row of the input
    ``index`` names, side by side: ``(N, width)``."""
    return g.op('Reshape', [g.op('Gather', ['table', 'index'], axis=0),
                            g.const(np.array([-1, width], np.int64),
                                    'shape')])


def first_layer_graph(weight, bias, activation):
    """The first convolution of masked inputs through the difference.

    Inputs: ``patches`` ``(P, m, T + 1)``, at each of the ``P`` output
    positions the patches of ``M = 1 - K`` of ``m`` masks (``T`` kernel
    taps), each followed by a 1; ``diff`` ``(P, T, C)``, the patch of
    ``F - I`` there; ``image`` ``(P, T * C + 1)``, the frame's patch there
    followed by a 1 (an extra position of zeros stays zero). Output ``y``
    ``(P * m, O)``, a table of rows: ``activation(pre + patches @ G)``
    with ``G[p, t, o] = sum_c diff[p, t, c] * weight[o, c, t]`` and
    ``pre`` the unperturbed
    pre-activations, the row of ``G`` the 1 multiplies (no pass of its
    own to add them).
    """
    g = _Graph()
    out_channels, channels = weight.shape[:2]
    taps = weight.transpose(2, 3, 1, 0).reshape(-1, channels, out_channels)
    # G tap-major, (T + 1, P, O): the fold batched over taps (ONNX Runtime
    # folds the input's transpose into the product), the unperturbed
    # pre-activations as one more tap.
    folded = g.op('MatMul', [g.op('Transpose', ['diff'], perm=[1, 0, 2]),
                             g.const(taps)])              # (T, P, O)
    pre = g.op('MatMul', ['image', g.const(np.concatenate([
        taps.reshape(-1, out_channels), bias[None]]))])   # (P, O)
    folded = g.op('Concat', [folded, g.op('Unsqueeze', [pre, g.const(
        np.array([0], np.int64), 'ax')])], axis=0)        # (T + 1, P, O)
    # ONNX Runtime's FusedMatMul reads it as (P, T + 1, O) (transBatchB):
    # no transpose of G is written (0.73 -> 0.48 ms a frame for the
    # first layer of occlusion's windows, the same numbers bit for bit).
    product = g.name('product')
    g.nodes.append(g.helper.make_node(
        'FusedMatMul', ['patches', folded], [product],
        domain='com.microsoft', transBatchB=1))
    g.nodes.append(g.helper.make_node('Reshape', [
        g.op(activation, [product]), g.const(np.array(
            [-1, out_channels], np.int64), 'shape')], ['y']))
    model = g.model([('patches', ['P', 'm', len(taps) + 1]),
                     ('diff', ['P', len(taps), channels]),
                     ('image', ['P', len(taps) * channels + 1])],
                    [('y', ['P * m', out_channels])])
    model.opset_import.append(g.helper.make_opsetid('com.microsoft', 1))
    return model


def tail_graph(model):
    """What follows the convolutions, from the last one's output gathered
    from a table of rows, channels last (``table`` ``(R, C)`` and
    ``index`` ``(N, h * w)`` int64, each input's row at each position,
    row-major): the A3CFF's dense layer and
    heads, or the A3CLSTMCNN's LSTM step (inputs ``c``, ``h`` ``(1,
    units)``, one state for every row) and heads, through
    :func:`tail_linear`'s weights; outputs as :func:`ff_graph`'s and
    :func:`lstm_graph`'s."""
    g = _Graph()
    weights, bias = tail_linear(model)
    positions, channels, _ = weights.shape
    z = g.op('Add', [g.op('MatMul', [
        _gathered_rows(g, positions * channels),
        g.const(weights.reshape(positions * channels, -1))]),
        g.const(bias)])
    state = []
    if model.recurrent:
        units = model.lstm.state_size
        state = [('c', [1, units]), ('h', [1, units])]
        z = g.op('Add', [z, g.op('Gemm', [
            'h', g.weight(model.lstm.lateral.W)], transB=1)])
    return g.model([('table', ['R', channels]),
                    ('index', ['N', positions], g.TensorProto.INT64)]
                   + state, _after_linear(g, z, model))


def ff_backward_graph(model, guided, newest_only):
    """The input-gradient pass of an ``A3CFF`` as an ONNX graph.

    Inputs: ``g`` ``(2, 256)``, the gradients at the head's output (the
    chosen logit's and the value's weights, through the last ReLU), and
    ``a1``, ``a2``, ``a3``, the three convolutions' ReLU outputs of the
    forward (batch of one). Output ``gx`` ``(2, C, H, W)`` (``C`` 1 with
    ``newest_only``: the last stacked frame's alone). Every ReLU passes
    the gradient where its output is positive, with ``guided`` only where
    the gradient is positive too; convolutions go back as ConvTranspose
    with the same weights.
    """
    g = _Graph()
    head = list(model.head)
    zero = g.const(np.zeros((), np.float32), 'zero')

    def through_relu(grad, out):
        keep = g.op('Greater', [out, zero])
        if guided:
            keep = g.op('And', [keep, g.op('Greater', [grad, zero])])
        return g.op('Mul', [grad, g.op('Cast', [keep], to=1)])

    last = head[2]
    out_channels = last.W.shape[0]
    side = int(round((head[3].W.shape[1] / out_channels) ** 0.5))
    grad = g.op('MatMul', ['g', g.const(head[3].W.array.astype(np.float32))])
    grad = g.op('Reshape', [grad, g.const(np.array(
        [2, out_channels, side, side], np.int64), 'shape')])
    for i in (2, 1, 0):
        conv = head[i]
        grad = through_relu(grad, 'a{}'.format(i + 1))
        weight = conv.W.array.astype(np.float32)
        if i == 0 and newest_only:
            weight = weight[:, -1:]
        stride = conv.stride if isinstance(conv.stride, tuple) \
            else (conv.stride,) * 2
        grad = g.op('ConvTranspose', [grad, g.const(weight)],
                    strides=list(stride),
                    kernel_shape=list(weight.shape[2:]))
    g.nodes.append(g.helper.make_node('Identity', [grad], ['gx']))
    size = model.input_size
    channels = 1 if newest_only else head[0].W.shape[1]

    def feature(i):
        return [1, head[i].W.shape[0], 'h{}'.format(i), 'w{}'.format(i)]
    return g.model(
        [('g', [2, head[3].W.shape[0]]), ('a1', feature(0)),
         ('a2', feature(1)), ('a3', feature(2))],
        [('gx', [2, channels, size, size])])
