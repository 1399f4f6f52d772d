"""The suite's networks as ONNX graphs, built from their Chainer weights.

Built with ``onnx.helper``, run by :mod:`kernels.engine`'s sessions:

* :func:`forward_graph`: one step of any network, read from the
  :class:`networks.Structure` it declares (convolutions and their
  activation, dense layers, an LSTM or GRU cell, heads): input ``x``
  ``(N, C, H, W)`` and the cell's state parts; outputs ``scores``
  ``(N, n_actions)`` (the policy's logits), ``values`` ``(N,)`` and the
  next state parts (``c_next``, ``h_next``). LSTM gates as Chainer's
  ``F.lstm`` (the four pre-activations of a unit adjacent, ``a, i, f,
  o``); GRU gates as PyTorch's (``[r | z | n]``, ``b_hn`` inside the
  reset product).
* the pieces of incremental scoring (:func:`tail_linear`,
  :func:`post_graph`, :func:`tail_graph`, :func:`rows_graph`,
  :func:`first_layer_graph`), read from the same declaration;
* :func:`conv_backward_graph`: the input gradient (guided or plain) of the
  convolutions, from their activations (what follows them: NumPy).

``masked=True`` graphs score ``K * I + (1 - K) * F`` for a batch of keep
masks; ``live`` graphs take the weights as inputs (training workers);
``features`` graphs also hand out every layer's output.
"""
import numpy as np


def model_kind(model):
    """The kind a network declares (:class:`networks.SuiteNetwork`), or
    None for a network the engine does not run (one that declares no
    structure, or whose outputs the graphs do not reproduce)."""
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
                    strides=list(stride), pads=[pad[0], pad[1]] * 2,
                    group=groups_of(link))
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


ACTIVATION_OPS = {'relu': 'Relu', 'elu': 'Elu'}


def groups_of(conv):
    """The number of groups of a convolution (1: an ordinary one)."""
    return int(getattr(conv, 'groups', 1) or 1)


def full_weight(conv):
    """A convolution's weights as an ordinary convolution's ``(O, C, kh,
    kw)`` float32: a grouped one's blocks on the diagonal, zeros
    elsewhere."""
    weight = conv.W.array.astype(np.float32)
    groups = groups_of(conv)
    if groups == 1:
        return weight
    out, per_group = weight.shape[:2]
    full = np.zeros((out, per_group * groups) + weight.shape[2:],
                    np.float32)
    step = out // groups
    for k in range(groups):
        full[k * step:(k + 1) * step,
             k * per_group:(k + 1) * per_group] = weight[k * step:
                                                         (k + 1) * step]
    return full


def structure_of(model):
    """The :class:`networks.Structure` a network declares."""
    return model.structure


def state_names(model):
    """The recurrent state's parts, in the flat state's order (``()``
    for a feed-forward network): ``('c', 'h')`` for an LSTM, ``('h',)``
    for a GRU."""
    return structure_of(model).state_layout


class State:
    """A network's recurrent state as the graphs take it: its parts'
    names (:func:`graphs.state_names`) and units."""

    def __init__(self, model):
        self.names = state_names(model)
        self.units = structure_of(model).units

    @property
    def recurrent(self):
        return bool(self.names)

    def rows(self, flat):
        """``{part: (1, units)}`` of a flat state (None: zeros)."""
        if not self.names:
            return {}
        flat = (np.zeros(len(self.names) * self.units, np.float32)
                if flat is None else np.asarray(flat, np.float32))
        return {name: part[None] for name, part in
                zip(self.names, np.split(flat, len(self.names)))}


def forward_graph(model, masked=False, live=None, features=False):
    """The ONNX graph of one step of any of the suite's networks, built
    from its :class:`networks.Structure` (see the module).

    Inputs ``x`` ``(N, C, S, S)`` (or, with ``masked``, ``keep``,
    ``image`` and ``fill``: :meth:`_Graph.masking`; then one state row for
    every mask) and the cell's state parts (``c``, ``h`` for an LSTM;
    ``h`` for a GRU; ``(N, units)``). Outputs ``scores``, ``values`` and
    each state part's next value (``c_next``, ``h_next``). ``features``:
    each convolution's output after its activation is an output too
    (``conv1`` ..), and the last dense layer's (``hidden``) where there is
    one."""
    st = structure_of(model)
    g = _Graph(live)
    channels = st.convs[0].W.shape[1]
    size = model.input_size
    inputs = [('x', ['N', channels, size, size])]
    h = 'x'
    state_rows = 'N'
    if masked:
        h, inputs = g.masking(channels, size)
        state_rows = 1
    op = ACTIVATION_OPS[st.activation]
    extra = []
    for k, conv in enumerate(st.convs, 1):
        h = g.conv(h, conv, op)
        if features:
            g.nodes.append(g.helper.make_node('Identity', [h],
                                              ['conv{}'.format(k)]))
            extra.append(('conv{}'.format(k), [
                'N', conv.W.shape[0], 'H{}'.format(k), 'W{}'.format(k)]))
    h = g.op('Flatten', [h], axis=1)
    first = st.dense[0] if st.dense else _cell_input_link(st)
    outputs = _after_linear(g, g.linear(h, first), model, features)
    return g.model(inputs + _state_inputs(model, state_rows),
                   outputs + extra)


def _cell_input_link(st):
    """The linear map of the cell's input (the LSTM's ``upward``, the
    GRU's ``input``)."""
    return st.cell_link.upward if st.cell == 'lstm' else st.cell_link.input


def _heads(g, h, model):
    """``scores`` and ``values`` of the heads' input ``h``; returns the
    two outputs' shapes."""
    st = structure_of(model)
    scores = g.linear(h, st.policy)
    g.nodes.append(g.helper.make_node('Identity', [scores], ['scores']))
    if st.value is None:        # a Q-network's value: max_a Q
        g.nodes.append(g.helper.make_node('ReduceMax', [scores], ['values'],
                                          axes=[1], keepdims=0))
    else:
        g.nodes.append(g.helper.make_node(
            'Squeeze', [g.linear(h, st.value),
                        g.const(np.array([1], np.int64), 'ax')],
            ['values']))
    return [('scores', ['N', st.policy.W.shape[0]]), ('values', ['N'])]


def _lstm_cell(g, z, st):
    """The LSTM step from its gates' pre-activations ``z`` ``(N, 4 U)``
    (Chainer's order, the lateral product included) and the input ``c``;
    returns ``h_next`` and the state outputs' shapes."""
    units = st.cell_link.state_size
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
    return h_next, [('c_next', ['N', units]), ('h_next', ['N', units])]


def _gru_cell(g, gi, st):
    """The GRU step (PyTorch's gates ``[r | z | n]``) from the input's
    product ``gi`` ``(N, 3 U)`` and the input ``h``; returns ``h_next``
    and the state output's shape."""
    units = st.cell_link.state_size
    gh = g.linear('h', st.cell_link.hidden)
    split = g.const(np.array([units] * 3, np.int64), 'split')
    i_r, i_z, i_n = g.op('Split', [gi, split], n_out=3, axis=1)
    h_r, h_z, h_n = g.op('Split', [gh, split], n_out=3, axis=1)
    r = g.op('Sigmoid', [g.op('Add', [i_r, h_r])])
    z = g.op('Sigmoid', [g.op('Add', [i_z, h_z])])
    n = g.op('Tanh', [g.op('Add', [i_n, g.op('Mul', [r, h_n])])])
    # h' = n + z * (h - n) = (1 - z) * n + z * h
    h_next = g.op('Add', [n, g.op('Mul', [z, g.op('Sub', ['h', n])])])
    g.nodes.append(g.helper.make_node('Identity', [h_next], ['h_next']))
    return h_next, [('h_next', ['N', units])]


def _cell(g, pre, st):
    """The cell's step from its input product ``pre`` (without the state's
    part, which is added here from the inputs ``c``/``h``); returns its
    output and the state outputs' shapes."""
    if st.cell == 'lstm':
        z = g.op('Add', [pre, g.op('Gemm', [
            'h', g.weight(st.cell_link.lateral.W)], transB=1)])
        return _lstm_cell(g, z, st)
    return _gru_cell(g, pre, st)


def tail_linear(model):
    """The linear map that starts what follows the convolutions (the
    first dense layer, or the cell's input product): its weights per
    position of the last feature map, ``(h * w, C, U)``, and its bias."""
    st = structure_of(model)
    link = st.dense[0] if st.dense else _cell_input_link(st)
    channels = st.convs[-1].W.shape[0]
    w = link.W.array.astype(np.float32)
    per_position = w.reshape(len(w), channels, -1).transpose(2, 1, 0)
    bias = (np.zeros(len(w), np.float32) if link.b is None
            else link.b.array.astype(np.float32))
    return np.ascontiguousarray(per_position), bias


def _state_inputs(model, rows=1):
    """The graph inputs of the cell's state parts, ``rows`` each."""
    st = structure_of(model)
    return [(name, [rows, st.units]) for name in st.state_layout]


def post_graph(model):
    """What follows the tail's linear map (:func:`tail_linear`), from its
    output ``pre`` ``(N, U)``: the rest of the dense layers, the cell
    (inputs: its state parts, one row for every input) and the heads."""
    g = _Graph()
    units = len(tail_linear(model)[1])
    return g.model([('pre', ['N', units])] + _state_inputs(model),
                   _after_linear(g, 'pre', model))


def _after_linear(g, z, model, features=False):
    """From the output ``z`` of the first linear map after the
    convolutions: its activation and the further dense layers (if it was
    a dense layer), the cell and the heads; returns the outputs'
    shapes (with ``features``, ``hidden``: the last dense layer's output,
    after its activation)."""
    st = structure_of(model)
    op = ACTIVATION_OPS[st.activation]
    outputs = []
    if st.dense:
        h = g.op(op, [z])
        for link in st.dense[1:]:
            h = g.op(op, [g.linear(h, link)])
        if features:
            g.nodes.append(g.helper.make_node('Identity', [h], ['hidden']))
            outputs.append(('hidden', ['N', st.dense[-1].W.shape[0]]))
        if st.cell:
            h, state = _cell(g, g.linear(h, _cell_input_link(st)), st)
            outputs += state
    else:
        h, state = _cell(g, z, st)
        outputs += state
    return _heads(g, h, model) + outputs


def batched_product_graph(weights):
    """``delta`` ``(P, m, C)`` -> ``y`` ``(P, m, U)``: each position's
    rows times that position's ``weights`` ``(P, C, U)``."""
    g = _Graph()
    y = g.op('MatMul', ['delta', g.const(weights)])
    g.nodes.append(g.helper.make_node('Identity', [y], ['y']))
    return g.model([('delta', [weights.shape[0], 'm', weights.shape[1]])],
                   [('y', [weights.shape[0], 'm', weights.shape[2]])])


def conv_layers(model):
    """The convolutions of a network, in order, and the activation after
    each (an ONNX op name), from its :class:`networks.Structure`."""
    st = structure_of(model)
    return list(st.convs), ACTIVATION_OPS[st.activation]


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
    row-major): the dense layers, the cell (its state parts as inputs,
    one row for every input) and the heads, through :func:`tail_linear`'s
    weights; outputs as :func:`forward_graph`'s."""
    g = _Graph()
    weights, bias = tail_linear(model)
    positions, channels, _ = weights.shape
    z = g.op('Add', [g.op('MatMul', [
        _gathered_rows(g, positions * channels),
        g.const(weights.reshape(positions * channels, -1))]),
        g.const(bias)])
    return g.model([('table', ['R', channels]),
                    ('index', ['N', positions], g.TensorProto.INT64)]
                   + _state_inputs(model), _after_linear(g, z, model))


def conv_backward_graph(model, guided, newest_only):
    """The input-gradient pass of a network's convolutions as an ONNX
    graph, from its :class:`networks.Structure`.

    Inputs: ``g`` ``(2, D)``, the gradients at the flattened output of the
    last convolution's activation (the chosen logit's on row 0, the
    value's on row 1; what follows the convolutions is backpropagated by
    the caller), and ``a1`` .. ``aK``, the convolutions' activation
    outputs of the forward (batch of one). Output ``gx`` ``(2, C, H, W)``
    (``C`` 1 with ``newest_only``: the last stacked frame's alone). A ReLU
    passes the gradient where its output is positive, an ELU scaled by its
    slope (1 where its output is positive, else ``output + 1``); with
    ``guided`` only where the gradient is positive too. Convolutions go
    back as ConvTranspose with the same weights, padded to their input's
    size.
    """
    st = structure_of(model)
    g = _Graph()
    zero = g.const(np.zeros((), np.float32), 'zero')
    one = g.const(np.ones((), np.float32), 'one')

    def through_activation(grad, out):
        if st.activation == 'relu':
            slope = g.op('Cast', [g.op('Greater', [out, zero])], to=1)
        else:
            slope = g.op('Add', [g.op('Min', [out, zero]), one])
        if guided:
            slope = g.op('Mul', [slope, g.op(
                'Cast', [g.op('Greater', [grad, zero])], to=1)])
        return g.op('Mul', [grad, slope])

    sizes = [model.input_size]
    for conv in st.convs:
        k, stride, pad = _conv_geometry(conv)
        sizes.append((sizes[-1] + 2 * pad - k) // stride + 1)
    last = st.convs[-1].W.shape[0]
    grad = g.op('Reshape', ['g', g.const(np.array(
        [2, last, sizes[-1], sizes[-1]], np.int64), 'shape')])
    for i in reversed(range(len(st.convs))):
        conv = st.convs[i]
        grad = through_activation(grad, 'a{}'.format(i + 1))
        weight = conv.W.array.astype(np.float32)
        if i == 0 and newest_only:
            weight = weight[:, -1:]
        k, stride, pad = _conv_geometry(conv)
        natural = (sizes[i + 1] - 1) * stride - 2 * pad + k
        grad = g.op('ConvTranspose', [grad, g.const(weight)],
                    strides=[stride, stride], kernel_shape=[k, k],
                    pads=[pad] * 4, group=groups_of(conv),
                    output_padding=[sizes[i] - natural] * 2)
    g.nodes.append(g.helper.make_node('Identity', [grad], ['gx']))
    size = model.input_size
    channels = 1 if newest_only else st.convs[0].W.shape[1]
    features = [('a{}'.format(i + 1), [1, conv.W.shape[0], sizes[i + 1],
                                       sizes[i + 1]])
                for i, conv in enumerate(st.convs)]
    return g.model([('g', [2, last * sizes[-1] ** 2])] + features,
                   [('gx', [2, channels, size, size])])


def _conv_geometry(conv):
    """A square convolution's kernel side, stride and padding."""
    stride = conv.stride[0] if isinstance(conv.stride, tuple) \
        else conv.stride
    pad = conv.pad[0] if isinstance(conv.pad, tuple) else conv.pad
    return conv.W.shape[2], stride, pad
