"""play_episodes: ChainerRL's evaluation loop, with every step observed."""
import numpy as np
from chainerrl.experiments.evaluator import run_evaluation_episodes

from evaluation import episodes


class Counter:
    """Rewards 1 per step; ends (done) after ``length`` steps, or is cut
    off (needs_reset) after ``cut`` steps; frames numbered by step."""

    def __init__(self, length=5, cut=None):
        self.length, self.cut, self.t = length, cut, 0

    def _frame(self):
        self.rgb_frame = np.full((2, 2, 3), self.t, dtype=np.uint8)
        self.luma_frame = self.rgb_frame[:, :, 0]
        return np.array([self.t])

    def reset(self):
        self.t = 0
        return self._frame()

    def step(self, action):
        self.t += 1
        info = {'needs_reset': self.cut is not None and self.t >= self.cut}
        return self._frame(), 1.0, self.t >= self.length, info


class Agent:
    """Acts obs + 10; hands out the observation it acted on."""

    def __init__(self):
        self.calls = []

    def act(self, obs):
        self.calls.append(('act', int(obs[0])))
        self.last_result = ('result', int(obs[0]))
        return int(obs[0]) + 10

    def stop_episode(self):
        self.calls.append(('stop',))


class Observer:
    def __init__(self):
        self.seen = []

    def observe(self, step):
        self.seen.append((int(step.obs[0]), int(step.rgb[0, 0, 0]),
                          int(step.luma[0, 0]), step.result))

    def end_episode(self):
        self.seen.append('end')


def test_same_calls_and_returns_as_chainerrl():
    for kwargs, max_len in (({'length': 5}, None), ({'length': 5}, 3),
                            ({'length': 9, 'cut': 4}, None)):
        ours, theirs = Agent(), Agent()
        scores = episodes.play_episodes(Counter(**kwargs), ours, 2, max_len)
        expected = run_evaluation_episodes(Counter(**kwargs), theirs, None,
                                           2, max_len)
        assert scores == expected
        assert ours.calls == theirs.calls


def test_observers_get_each_step_with_its_frame_and_result():
    observer = Observer()
    scores = episodes.play_episodes(Counter(length=3), Agent(), 2,
                                    observers=[observer])
    assert scores == [3.0, 3.0]
    # Step t: obs t, its frame and luminance t, the result of acting on t.
    episode = [(t, t, t, ('result', t)) for t in range(3)] + ['end']
    assert observer.seen == episode * 2


def test_summary():
    assert episodes.summary([1.0, 2.0, 6.0]) == {
        'mean': 3.0, 'median': 2.0, 'stdev': np.std([1, 2, 6], ddof=1)}
    assert episodes.summary([4.0])['stdev'] == 0.0


def test_n_steps_as_chainerrl():
    for kwargs, n_steps, max_len in (({'length': 5}, 12, None),
                                     ({'length': 50}, 12, None),
                                     ({'length': 9, 'cut': 4}, 10, 3)):
        ours, theirs = Agent(), Agent()
        observer = Observer()
        scores = episodes.play_episodes(Counter(**kwargs), ours, None, max_len,
                                        observers=[observer], n_steps=n_steps)
        expected = run_evaluation_episodes(Counter(**kwargs), theirs,
                                           n_steps, None, max_len)
        assert scores == expected
        assert ours.calls == theirs.calls
        assert sum(1 for seen in observer.seen if seen != 'end') == n_steps
