"""kernels/graphs.py: the ONNX forward built from a network's structure
equals Chainer's forward; grouped weights and state rows by hand."""
import chainer
import chainer.links as L
import numpy as np
import pytest

from kernels.engine import session
from kernels.graphs import State, forward_graph, full_weight, groups_of
from models.networks import ARCHS, stacked_frames


@pytest.mark.parametrize('arch', ['FFSoftmax', 'GRU', 'LSTM', 'NatureAC2',
                                  'NatureQ'])
def test_forward_graph_equals_chainer(arch):
    frames = stacked_frames(arch)
    model = ARCHS[arch].make_model(4, frames)
    size = model.input_size
    rng = np.random.RandomState(1)
    x = rng.rand(2, frames, size, size).astype(np.float32)
    st = State(model)
    feed = {'x': x}
    for name in st.names:
        feed[name] = rng.randn(2, st.units).astype(np.float32) * 0.1
    out = dict(zip(['scores', 'values'] + [n + '_next' for n in st.names],
                   session(forward_graph(model)).run(
                       ['scores', 'values']
                       + [n + '_next' for n in st.names], feed)))
    with chainer.using_config('train', False):
        if st.recurrent:
            cell = model.structure.cell_link
            if st.names == ('c', 'h'):
                cell.set_state(chainer.Variable(feed['c']),
                               chainer.Variable(feed['h']))
            else:
                cell.h = chainer.Variable(feed['h'])
        pout, value = model.pi_and_v(x)
    np.testing.assert_allclose(out['scores'], pout.logits.array, atol=1e-5)
    np.testing.assert_allclose(out['values'].ravel(), value.array.ravel(),
                               atol=1e-5)
    if st.recurrent:
        np.testing.assert_allclose(out['h_next'], cell.h.array, atol=1e-5)


def test_full_weight_puts_group_blocks_on_the_diagonal():
    conv = L.Convolution2D(4, 6, ksize=1, groups=2)
    assert groups_of(conv) == 2 and groups_of(L.Convolution2D(4, 6, 1)) == 1
    full = full_weight(conv)
    assert full.shape == (6, 4, 1, 1)
    np.testing.assert_array_equal(full[:3, :2], conv.W.array[:3])
    np.testing.assert_array_equal(full[3:, 2:], conv.W.array[3:])
    assert not full[:3, 2:].any() and not full[3:, :2].any()


def test_state_rows_split_a_flat_state_in_layout_order():
    lstm = ARCHS['LSTM'].make_model(3, 1)
    st = State(lstm)
    assert st.recurrent and st.names == ('c', 'h')
    flat = np.arange(2 * st.units, dtype=np.float32)
    rows = st.rows(flat)
    np.testing.assert_array_equal(rows['c'][0], flat[:st.units])
    np.testing.assert_array_equal(rows['h'][0], flat[st.units:])
    assert not st.rows(None)['h'].any()
    assert State(ARCHS['FFSoftmax'].make_model(3, 4)).rows(flat) == {}
