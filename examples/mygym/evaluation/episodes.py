"""Evaluation episodes that hand every step to observers (videos, rollouts).

:func:`play_episodes` plays as ChainerRL's ``eval_performance`` does (the
same calls to ``agent.act``, ``env.step`` and ``agent.stop_episode``, in the
same order, so the same seeds give the same games) and, after each action,
passes a :class:`DemoStep` to every observer: the observation the agent
acted on, the game frame it was made from and that frame's luminance (both
as the environment computed them), the agent's
:class:`saliency.SaliencyResult` with the action taken, and the emulator's
RAM (for object positions, :mod:`objects`). Observers have
``observe(step)`` and ``end_episode()``, and may have ``rewarded(reward)``,
called with the reward of each step's action once the step is played.
"""
import collections
import logging
import statistics

from common.outputs import signals_deferred

DemoStep = collections.namedtuple('DemoStep', 'obs rgb luma result ram')


def play_episodes(env, agent, n_episodes=None, max_episode_len=None,
                  observers=(), logger=None, n_steps=None, play=None):
    """Play ``n_episodes`` in test mode, or episodes until ``n_steps``
    steps in all; returns their returns. The one play loop of the suite
    (demo, preview, report, interventions).

    ``play(env, action, t)`` (default: ``env.step(action)``), with ``t``
    the steps played before it in all, plays each action and returns what
    ``env.step`` does: the interventions play some steps their own way.

    With ``n_steps`` the last episode is cut off there and, as in
    ChainerRL, only finished episodes count, unless none finished.
    ``agent.last_result`` must be set by every ``act`` when there are
    observers (a :class:`saliency_a3c.SaliencyA3C` with a method set).
    """
    if (n_episodes is None) == (n_steps is None):
        raise ValueError('give n_episodes or n_steps')
    logger = logger or logging.getLogger(__name__)
    scores, steps, total = [], 0, 0.0
    while (len(scores) < n_episodes if n_steps is None
           else steps < n_steps):
        obs, done, total, length, info = env.reset(), False, 0.0, 0, {}
        while not (done or length == max_episode_len
                   or info.get('needs_reset', False)
                   or (n_steps is not None and steps == n_steps)):
            action = agent.act(obs)
            if observers:
                step = DemoStep(obs, env.rgb_frame, env.luma_frame,
                                agent.last_result,
                                getattr(env, 'ram', None))
                # Every observer records the step, or none: Ctrl-C waits.
                with signals_deferred():
                    for observer in observers:
                        observer.observe(step)
            obs, reward, done, info = (env.step(action) if play is None
                                       else play(env, action, steps))
            for observer in observers:
                if hasattr(observer, 'rewarded'):
                    observer.rewarded(reward)
            total += reward
            length += 1
            steps += 1
        finished = not (n_steps is not None and steps == n_steps
                        and not done and length != max_episode_len)
        logger.info('evaluation episode %d length:%d R:%s%s', len(scores),
                    length, total, '' if finished else ' (cut off)')
        if finished:
            scores.append(float(total))
        agent.stop_episode()
        for observer in observers:
            observer.end_episode()
    if not scores:
        scores.append(float(total))
    return scores


class StepCollector:
    """Observer that keeps the :class:`DemoStep` of every ``stride``-th
    step from step ``start`` on (counted over all episodes), at most
    ``limit`` of them (None: no limit), in ``steps``."""

    def __init__(self, stride=1, start=0, limit=None):
        self.stride, self.start, self.limit = stride, start, limit
        self.count, self.steps = 0, []

    def observe(self, step):
        offset = self.count - self.start
        if offset >= 0 and offset % self.stride == 0 and (
                self.limit is None or len(self.steps) < self.limit):
            self.steps.append(step)
        self.count += 1

    def end_episode(self):
        pass


def summary(scores):
    """``mean``, ``median`` and ``stdev`` (0 for one episode) of returns."""
    return {'mean': statistics.mean(scores),
            'median': statistics.median(scores),
            'stdev': statistics.stdev(scores) if len(scores) > 1 else 0.0}
