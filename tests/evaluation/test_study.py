"""evaluation/study.py: frames from a rollout, object positions, the map
loop, and the finite mean."""
import math

import numpy as np
import pytest

from env_gym_chainer import FramePreprocessor
from evaluation import study


class Bar:
    def __init__(self):
        self.n = 0

    def update(self):
        self.n += 1


class Result:
    def __init__(self, actor, critic):
        self.actor, self.critic = actor, critic


def test_compute_maps_passes_each_state_with_its_recurrent_state():
    seen = []

    def method(model, x, recurrent):
        seen.append((x.shape, recurrent))
        return Result(x[0, 0] * 2, x[0, 0] + recurrent)
    states = np.arange(3 * 1 * 2 * 2, dtype=np.float32).reshape(3, 1, 2, 2)
    bar = Bar()
    actor, critic = study.compute_maps(method, None, states,
                                       np.array([10.0, 20.0, 30.0]), bar)
    assert bar.n == 3 and [s for s, _ in seen] == [(1, 1, 2, 2)] * 3
    np.testing.assert_array_equal(actor, states[:, 0] * 2)
    np.testing.assert_array_equal(critic[2], states[2, 0] + 30)


def test_finite_mean_skips_nan():
    assert study.finite_mean([1.0, math.nan, 3.0]) == 2.0
    assert math.isnan(study.finite_mean([math.nan]))


def test_object_positions_map_pong_ram_into_the_input():
    ram = np.zeros((1, 128), np.uint8)
    ram[0, 49], ram[0, 54] = 49 + 79, 14 + 103     # ball box at (79, 103)
    ram[0, 51], ram[0, 50] = 13 + 50, 15 + 60
    positions = study.object_positions('PongNoFrameskip-v4',
                                       FramePreprocessor(84), ram)
    x, y = positions[0]['ball']                    # centre (80, 105)
    assert x == pytest.approx(80 * 84 / 160)
    assert y == pytest.approx(105 * 84 / 210)
    assert study.object_positions('AsterixNoFrameskip-v4',
                                  FramePreprocessor(84), ram) is None
    assert study.object_positions('PongNoFrameskip-v4',
                                  FramePreprocessor(84), None) is None


def test_rollout_frames_take_every_stride_th_step(tmp_path):
    import json
    path = str(tmp_path / 'r.npz')
    n = 10
    observations = np.arange(n, dtype=np.uint8)[:, None, None, None] * \
        np.ones((1, 4, 84, 84), np.uint8)
    np.savez(path, frames=np.zeros((n, 210, 160, 3), np.uint8),
             observations=observations, actions=np.zeros(n, np.int64),
             meta=np.array(json.dumps({'arch': 'FFSoftmax', 'n_actions': 6,
                                       'frame_buffer_length': 4})))
    frames, meta = study.rollout_frames(path, 3, 4)
    np.testing.assert_array_equal(frames['observations'][:, 0, 0, 0],
                                  [0, 4, 8])
    assert meta['n_actions'] == 6
    with pytest.raises(ValueError, match='fewer than 2 frames'):
        study.rollout_frames(path, 3, 10)
