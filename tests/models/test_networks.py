"""models/networks.py: every architecture's structure says what it is."""
import chainer
import numpy as np
import pytest

from models.networks import ARCHS, phi, stacked_frames

CELL_STATE = {None: 0, 'lstm': 2, 'gru': 1}


@pytest.mark.parametrize('arch', sorted(ARCHS))
def test_structure_matches_the_forward_pass(arch):
    frames = stacked_frames(arch)
    model = ARCHS[arch].make_model(3, frames)
    size = ARCHS[arch].make_preprocessor().size
    st = model.structure
    # The first convolution reads the stacked frames; the policy head
    # gives one output per action.
    assert st.convs[0].W.shape[1] == frames
    assert st.policy.out_size == 3
    assert st.state_size == CELL_STATE[st.cell] * st.units
    assert model.recurrent == (st.cell is not None)
    x = np.random.RandomState(0).rand(1, frames, size, size).astype(
        np.float32)
    with chainer.using_config('train', False):
        pout, value = model.pi_and_v(x)
    if st.outputs == 'q':
        # The policy is the softmax of the Q-values; the value their max.
        q = pout.logits.array
        assert q.shape == (1, 3)
        np.testing.assert_allclose(value.array.ravel(), q.max(axis=1),
                                   rtol=1e-6)
    else:
        assert pout.all_prob.array.shape == (1, 3)
        np.testing.assert_allclose(pout.all_prob.array.sum(), 1, rtol=1e-5)
        assert value.array.shape == (1, 1)


def test_stacked_frames_and_phi():
    assert stacked_frames('FFSoftmax') == 4
    assert stacked_frames('FFSoftmax', 2) == 2
    assert stacked_frames('LSTM') == 1
    with pytest.raises(ValueError, match='sees 1 frame'):
        stacked_frames('GRU', 4)
    with pytest.raises(ValueError, match='unknown architecture'):
        stacked_frames('Transformer')
    np.testing.assert_allclose(phi(np.array([[0, 51, 255]], np.uint8)),
                               [[0, 0.2, 1]])
