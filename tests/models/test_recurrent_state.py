"""A recurrent model's state as one flat vector."""
import numpy as np
from chainer import links as L

from models.networks import A3CLSTMCNN
from models.recurrent_state import restore, snapshot


def test_snapshot_and_restore_round_trip():
    model = A3CLSTMCNN(3)
    assert (snapshot(model) == 0).all()        # no state yet reads as zeros
    vec = np.arange(512, dtype=np.float32)
    restore(model, vec, batch_size=3)
    assert model.lstm.c.shape == (3, 256)
    np.testing.assert_array_equal(snapshot(model), vec)
    assert snapshot(L.Linear(2, 2)) is None


def test_a_wrong_sized_state_is_refused_and_changes_nothing():
    import pytest
    model = A3CLSTMCNN(3)
    vec = np.arange(512, dtype=np.float32)
    restore(model, vec)
    for bad in (vec[:300], np.concatenate([vec, vec]), vec.reshape(2, 256)):
        with pytest.raises(ValueError, match=r'the model needs \(512,\)'):
            restore(model, bad)
        np.testing.assert_array_equal(snapshot(model), vec)
