"""The frame-range app on a Dask LocalCluster against its own process pool.

Records ``--frames`` frames of the shipped Pong agent, then, side by side
in one run (alternating, ``--repeats`` times), computes their Greydanus
maps

* with the app's local pool of ``--workers`` processes (``--workers N``);
* on a Dask ``LocalCluster`` of as many one-thread workers
  (``--cluster local:N``), started once beforehand (its start-up is timed
  apart: a real cluster is running already);

and prints frames/s of each and ``ratio pool/cluster`` (the engine's
overhead; 1.0 = none). It also measures what the chunk size trades
against: one frame's cost in one process, and the scheduler's round trip
per task (``--tasks`` empty tasks).

    python bench/cluster_scaling.py --frames 1000 --workers 2
"""
import argparse
import contextlib
import io
import logging
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import chainer  # noqa: E402
import distributed  # noqa: E402,F401  (its logging set up before ours)

import saliency_app  # noqa: E402
import train_a3c_gym  # noqa: E402
from agents import load_agent  # noqa: E402
from evaluation import cluster as cl  # noqa: E402
from evaluation.rollout import load_rollout  # noqa: E402
from models.networks import phi  # noqa: E402
from saliency import make_saliency  # noqa: E402

SHIPPED = os.path.join(HERE, '..', 'examples', 'mygym', 'pretrained', 'pong')


def _noop(x):
    return x


def record(path, frames):
    with contextlib.redirect_stdout(io.StringIO()):
        assert train_a3c_gym.main(
            ['1', '--demo', '--load', SHIPPED, '--eval-n-steps', str(frames),
             '--saliency', 'none', '--record-rollout', path,
             '--logger-level', '40']) == 0
    arrays, meta = load_rollout(path)
    return arrays, meta


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--frames', type=int, default=1000)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--repeats', type=int, default=2)
    p.add_argument('--tasks', type=int, default=400)
    p.add_argument('--frames-per-task', type=int,
                   default=cl.FRAMES_PER_TASK)
    args = p.parse_args()
    # The cluster's shutdown chatter (closed comms) is no figure.
    logging.getLogger('distributed').setLevel(logging.CRITICAL)
    agent, info = load_agent(SHIPPED)
    model = agent.model
    with tempfile.TemporaryDirectory() as tmp:
        arrays, meta = record(os.path.join(tmp, 'rollout.npz'), args.frames)
    observations = arrays['observations'][:args.frames]
    frames = list(range(len(observations)))
    print('{} recorded frames, Greydanus maps, {} workers, {} frames per '
          'task'.format(len(frames), args.workers, args.frames_per_task),
          flush=True)

    method = make_saliency('greydanus', model=model)
    with chainer.using_config('train', False):
        start = time.perf_counter()
        for obs in observations[:20]:
            method(model, phi(obs)[None])
        per_frame = (time.perf_counter() - start) / 20
    print('one frame in one process: {:.1f} ms'.format(1000 * per_frame))

    start = time.perf_counter()
    with cl.Cluster(n_workers=args.workers) as cluster:
        print('LocalCluster start-up: {:.1f} s'.format(
            time.perf_counter() - start))
        client = cluster.client
        client.gather(client.map(_noop, range(50), pure=False))   # warm
        start = time.perf_counter()
        client.gather(client.map(_noop, range(args.tasks), pure=False))
        per_task = (time.perf_counter() - start) / args.tasks
        print('scheduler: {:.2f} ms per empty task ({} tasks)'.format(
            1000 * per_task, args.tasks))
        maps = cl.ClusterMaps(client, args.frames_per_task)
        rates = {'pool': [], 'cluster': []}
        for _ in range(args.repeats):
            start = time.perf_counter()
            saliency_app.compute_maps(model, phi, observations, frames,
                                      method, args.workers, progress=False)
            rates['pool'].append(len(frames) / (time.perf_counter() - start))
            start = time.perf_counter()
            maps.maps(model, info['arch'], info['n_actions'],
                      info['frame_buffer_length'], 'greydanus', 64,
                      observations)
            rates['cluster'].append(len(frames) /
                                    (time.perf_counter() - start))
    pool = statistics.median(rates['pool'])
    dask = statistics.median(rates['cluster'])
    print('local pool: {:.1f} frames/s  (runs: {})'.format(
        pool, ', '.join('{:.1f}'.format(r) for r in rates['pool'])))
    print('LocalCluster: {:.1f} frames/s  (runs: {})'.format(
        dask, ', '.join('{:.1f}'.format(r) for r in rates['cluster'])))
    tasks = -(-len(frames) // args.frames_per_task)
    print('scheduler share: {} tasks x {:.2f} ms = {:.2f} s of {:.1f} s '
          'of work'.format(tasks, 1000 * per_task, tasks * per_task,
                           len(frames) * per_frame))
    print('ratio pool/cluster: {:.2f}'.format(pool / dask))


if __name__ == '__main__':
    main()
