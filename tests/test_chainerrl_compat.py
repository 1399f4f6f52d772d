"""ChainerRL 0.8.0 on Python >= 3.10."""
import collections

import chainer
import numpy as np
from chainerrl import recurrent

import chainerrl_compat  # noqa: F401


def test_compat_shim_restores_collections_iterable():
    # chainerrl.recurrent tests isinstance(state, collections.Iterable);
    # without the shim every recurrent A3C worker dies on Python >= 3.10.
    assert collections.Iterable is collections.abc.Iterable
    h = chainer.Variable(np.ones((1, 3), dtype=np.float32))
    y = h * 2
    recurrent.unchain_backward((y, y))
    assert y.creator is None
