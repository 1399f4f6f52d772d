"""The faithfulness measures on models whose answer is known."""
import chainer
import chainer.functions as F
import numpy as np
import pytest
from chainerrl.distribution import SoftmaxDistribution
from scipy.stats import spearmanr

from evaluation import metrics as fm
from iclr_acer_link import ICLRACERHeadMini
from models.networks import A3CFF, A3CLSTMCNN
from saliency import GradientSaliency


# The patch the tiny network reads: rows 3..5, columns 6..8 of 12x12.
ROWS, COLS = slice(3, 6), slice(6, 9)


class PatchNet(chainer.Chain):
    """Logits and value computed from one 3x3 patch of the input alone.

    Each patch pixel moves the logits and the value the same way, so
    removing more of the patch always moves the output further (the curves
    are monotonic and the answer is known).
    """

    def __init__(self):
        super().__init__()
        self.w = np.zeros((9, 3), np.float32)
        self.w[:, 0], self.w[:, 1] = 0.4, -0.4

    def pi_and_v(self, state):
        patch = F.reshape(state[:, :, ROWS, COLS], (len(state), 9))
        logits = F.matmul(patch, self.w)
        value = F.sum(patch, axis=1, keepdims=True)
        return SoftmaxDistribution(logits), value


def test_a_map_of_the_read_patch_beats_random_and_points_at_it():
    rng = np.random.RandomState(1)
    model = PatchNet()
    # A bright patch on a dark, noisy background: blurring dims it.
    states = rng.uniform(0, 0.2, (4, 1, 1, 12, 12)).astype(np.float32)
    states[..., ROWS, COLS] = 1
    result = [GradientSaliency(guided=False)(model, s) for s in states]
    actor = np.stack([r.actor for r in result])
    critic = np.stack([r.critic for r in result])
    # The gradient is zero off the patch.
    outside = np.ones((12, 12), bool)
    outside[ROWS, COLS] = False
    assert (actor[:, outside] == 0).all() and (critic[:, outside] == 0).all()
    order_rng = np.random.RandomState(2)
    for state, a_map, c_map in zip(states, actor, critic):
        orders = [fm.salient_order(a_map, order_rng),
                  fm.salient_order(c_map, order_rng)]
        randoms = [order_rng.permutation(144) for _ in range(5)]
        curves = fm.deletion_insertion(model, state[0], orders + randoms,
                                       action=0)
        aucs = {kind: {score: fm.auc(series) for score, series in c.items()}
                for kind, c in curves.items()}
        # Actor (ordering 0) on KL, critic (ordering 1) on |dV|: deletion
        # above every random ordering, insertion below.
        for row, score in ((0, 'kl'), (1, 'value')):
            assert aucs['deletion'][score][row] > \
                aucs['deletion'][score][2:].max()
            assert aucs['insertion'][score][row] < \
                aucs['insertion'][score][2:].min()
        # The patch is 9 of 144 pixels (6.25%): by 10% deleted it is gone.
        assert curves['deletion']['value'][1][2] == pytest.approx(
            curves['deletion']['value'][1][-1])
    centre = (7.5, 4.5)          # (column, row) of the patch's centre
    found = fm.pointing(actor, [{'patch': centre}] * 4, radius=2)
    assert found['patch']['hit_rate'] == 1
    assert found['patch']['mass_ratio'] > 5
    assert found['chance_hit_rate'] == pytest.approx(
        fm.disk((12, 12), centre, 2).mean())
    away = fm.pointing(actor, [{'patch': (2.5, 9.5)}] * 4, radius=2)
    assert away['patch']['hit_rate'] == 0
    assert away['patch']['mass_ratio'] == 0


def test_pointing_by_hand():
    saliency_map = np.zeros((1, 10, 10))
    saliency_map[0, 2, 3] = 3.0          # the peak, at (column 3.5, row 2.5)
    saliency_map[0, 8, 8] = 1.0
    found = fm.pointing(saliency_map, [{'a': (3.5, 2.5), 'b': None}],
                        radius=1)
    # The disk of radius 1 around a pixel centre holds 5 pixels.
    assert found['a']['chance_hit_rate'] == pytest.approx(0.05)
    assert found['a']['mass_ratio'] == pytest.approx(0.75 / 0.05)
    assert found['a']['hit_rate'] == 1
    assert found['b']['frames'] == 0
    assert np.isnan(found['b']['mass_ratio'])
    assert found['any'] == {'hit_rate': 1.0, 'frames': 1}


def test_spearman_helpers_match_scipy():
    rng = np.random.RandomState(0)
    a = rng.rand(5, 6, 7)
    b = a + rng.rand(5, 6, 7)
    b[0, 0, :3] = b[0, 0, 3]             # ties
    expected = [spearmanr(x.ravel(), y.ravel())[0] for x, y in zip(a, b)]
    np.testing.assert_allclose(fm.spearman_pairs(a, b), expected, rtol=1e-10)
    pairs = [spearmanr(a[i].ravel(), a[j].ravel())[0]
             for i in range(5) for j in range(5) if i != j]
    assert fm.cross_frame_spearman(a) == pytest.approx(np.mean(pairs))
    constant = np.zeros((1, 6, 7))
    assert np.isnan(fm.spearman_pairs(constant, a[:1])[0])


def test_auc_and_deletion_masks_by_hand():
    assert fm.auc([0, 1, 1]) == pytest.approx(0.75)
    assert fm.auc([[2, 2], [0, 1]]).tolist() == [2.0, 0.5]
    order = np.array([5, 0, 3, 1, 2, 4])          # 2x3 image
    deletion, insertion = fm.deletion_insertion_masks(order, (2, 3), steps=2)
    # 0, 3 and 6 pixels inserted: first none, then pixels 5, 0, 3, then all.
    assert insertion.reshape(3, 6).tolist() == [
        [0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 1], [1, 1, 1, 1, 1, 1]]
    np.testing.assert_array_equal(deletion, 1 - insertion)


def _params(model):
    return {path: p.array.copy() for path, p in model.namedparams()}


def test_randomized_reinitialises_exactly_the_named_layers():
    model = A3CFF(3, 4, head_class=ICLRACERHeadMini)
    before = _params(model)
    fresh = fm.fresh_model(lambda: A3CFF(3, 4, head_class=ICLRACERHeadMini),
                           seed=7)
    again = fm.fresh_model(lambda: A3CFF(3, 4, head_class=ICLRACERHeadMini),
                           seed=7)
    for path, value in _params(fresh).items():
        np.testing.assert_array_equal(value, _params(again)[path])
    groups = fm.layer_groups(model)
    assert list(groups) == ['heads', 'fc', 'conv3', 'conv2', 'conv1']
    out = fm.randomized(model, fresh, ['heads', 'conv2'])
    fresh_params = _params(fresh)
    # Paths of the named groups' parameters: heads are /1 (pi) and /2 (v),
    # conv2 is the head's second layer /0/1.
    changed = ('/1/', '/2/', '/0/1/')
    for path, value in _params(out).items():
        if path.startswith(changed):
            np.testing.assert_array_equal(value, fresh_params[path])
            if not path.endswith('/b'):      # biases start equal (0.1 / 0)
                assert not np.array_equal(value, before[path]), path
        else:
            np.testing.assert_array_equal(value, before[path])
    # The model itself is untouched.
    for path, value in _params(model).items():
        np.testing.assert_array_equal(value, before[path])
    stages = fm.randomization_cascade(model, fresh)
    assert [name for name, _ in stages] == list(groups)
    last = _params(stages[-1][1])
    for path, value in last.items():
        np.testing.assert_array_equal(value, fresh_params[path])
    with pytest.raises(KeyError):
        fm.randomized(model, fresh, ['lstm'])


def test_lstm_layer_groups():
    groups = fm.layer_groups(A3CLSTMCNN(4))
    assert list(groups) == ['heads', 'lstm', 'conv4', 'conv3', 'conv2',
                            'conv1']
