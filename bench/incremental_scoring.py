"""Incremental against dense perturbation scoring, per agent and method.

For each shipped agent (Pong: A3CFF; Breakout: LSTM-CNN) and each masked
method, on one real frame of its game (step 60 of a seeded game, actions
cycling), prints the incremental pass's estimated share of the dense
pass's cost (what ``--scoring auto`` decides on), the choice, and the
scoring alone (the plan included) timed both ways in ``--repeats``
alternating rounds, each timed call after an untimed one of its kind
(median, and the ratio of the best calls); the scores are checked equal
(relative 1e-5) first.

    python bench/incremental_scoring.py --threads 2
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from agents import environment_for, load_agent  # noqa: E402
from kernels import engine, incremental  # noqa: E402
from saliency import make_saliency  # noqa: E402

PRETRAINED = os.path.join(HERE, '..', 'examples', 'mygym', 'pretrained')


def frame_of(agent, info, steps=60):
    env = environment_for(info, seed=0)
    obs = env.reset()
    for t in range(steps):
        obs = env.step(t % env.n_actions)[0]
    env.close()
    return np.asarray(agent.phi(obs), np.float32)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--agents', default='pong,breakout-lstm')
    p.add_argument('--methods', default='greydanus,occlusion,'
                                        'occlusion-blur,rise')
    args = p.parse_args(argv)
    engine.set_threads(args.threads)
    print('{:14s} {:15s} {:>6s} {:>12s} {:>9s} {:>9s} {:>7s} {:>6s}'.format(
        'agent', 'method', 'share', 'auto', 'dense ms', 'incr ms',
        'median', 'best'))
    with threadpool_limits(limits=args.threads):
        for name in args.agents.split(','):
            agent, info = load_agent(os.path.join(PRETRAINED, name))
            model, frame = agent.model, frame_of(agent, info)
            run = engine.engine_for(model)
            scorer = run.incremental()
            state = (np.zeros(2 * model.lstm.state_size, np.float32)
                     if model.recurrent else None)
            for method_name in args.methods.split(','):
                keep, fill = make_saliency(
                    method_name, model=model).masks_and_fill(frame)
                plan = scorer.plan(frame, keep, fill)
                want = run.masked(frame, keep, fill, state)
                got = scorer.masked(frame, keep, fill, state, plan)
                for a, b in zip(got, want):
                    assert np.abs(a - b).max() <= 1e-5 * np.abs(b).max()
                dense, fast = [], []
                for _ in range(args.repeats):
                    # Each timed call follows an untimed one of its kind.
                    for times, call in ((dense, lambda: run.masked(
                            frame, keep, fill, state)),
                            (fast, lambda: scorer.masked(
                                frame, keep, fill, state))):
                        call()
                        start = time.perf_counter()
                        call()
                        times.append(time.perf_counter() - start)
                d, f = statistics.median(dense), statistics.median(fast)
                print('{:14s} {:15s} {:6.2f} {:>12s} {:9.1f} {:9.1f} {:7.2f} '
                      '{:6.2f}'.format(
                          name, method_name, plan.share,
                          'incremental' if incremental.worthwhile(plan)
                          else 'dense', 1000 * d, 1000 * f, d / f,
                          min(dense) / min(fast)), flush=True)


if __name__ == '__main__':
    main()
