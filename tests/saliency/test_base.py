"""The saliency contract: ``recurrent_state=None`` is an episode's start."""
import numpy as np
import pytest

from models.networks import A3CLSTMCNN
from models.recurrent_state import restore
from saliency import GreydanusSaliency, make_saliency, policy_only


@pytest.mark.parametrize('name', ['guided', 'gradient', 'greydanus',
                                  'policy_only'])
def test_none_is_the_zero_state_never_a_stale_one(name):
    np.random.seed(0)
    model = A3CLSTMCNN(4)
    method = {'policy_only': policy_only,
              'greydanus': GreydanusSaliency(stride=20, chunk=7)}.get(
                  name) or make_saliency(name)
    state = np.random.RandomState(1).rand(1, 1, 80, 80).astype(np.float32)
    zero = method(model, state, np.zeros(512, dtype=np.float32))
    # A one-row state of another frame left in the model, as after acting.
    restore(model, np.random.RandomState(2).normal(size=512).astype(
        np.float32))
    result = method(model, state, None)
    assert result.value == pytest.approx(zero.value, rel=1e-6)
    np.testing.assert_allclose(result.action_probs, zero.action_probs,
                               rtol=1e-6)
    if name != 'policy_only':
        np.testing.assert_allclose(result.actor, zero.actor, rtol=1e-5,
                                   atol=1e-12)
        np.testing.assert_allclose(result.critic, zero.critic, rtol=1e-5,
                                   atol=1e-12)


def test_cuda_is_refused_for_networks_that_run_in_chainer():
    from models.networks import A3CFF
    lstm, mellowmax = A3CLSTMCNN(4), A3CFF(4, mellowmax=True)
    with pytest.raises(ValueError, match='backpropagates in Chainer'):
        make_saliency('guided', device='cuda', model=mellowmax)
    # Every network that declares its structure backpropagates in ONNX
    # Runtime, recurrent ones too.
    assert make_saliency('guided', device='cuda', model=lstm).device \
        == 'cuda'
    with pytest.raises(ValueError, match='runs in Chainer on the CPU'):
        make_saliency('greydanus', device='cuda', model=mellowmax)
    # What ONNX Runtime runs is accepted (a GPU is checked at start-up).
    assert make_saliency('guided', device='cuda', model=A3CFF(4)).device \
        == 'cuda'
    make_saliency('greydanus', device='cuda', model=lstm)
    make_saliency('guided', device='cpu', model=lstm)
