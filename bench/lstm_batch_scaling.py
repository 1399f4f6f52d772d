"""Would several environments per worker, stepped in lockstep, train the
LSTM-CNN faster? Time its training work per sample at two batch sizes.

A worker that plays ``envs`` games at once acts on ``envs`` observations in
one ONNX Runtime call and updates from ``envs`` segments of ``t_max`` steps
in one pass. This script measures what that batching would save, on random
80x80 frames with the launcher's LSTM-CNN (4 actions), one process, one BLAS
thread:

* acting: ``engine.ActingEngine`` (with the convolution outputs, as
  training acts) on 1 observation against ``envs`` at once;
* the update: the backward through the kept convolution outputs
  (``npconv``), the LSTM over the segment (``lstm_segment``), the heads,
  a loss, its backward and an Adam step (``optimizers.InPlaceAdam``), for a
  segment of ``t_max`` steps against ``envs`` such segments in one pass.

Runs alternate; each prints samples per second, and the medians and the
speed-up of the batched variant are printed at the end (above 1: batching
helps).

    python bench/lstm_batch_scaling.py --envs 8 --repeats 3
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import chainerrl_compat  # noqa: E402,F401
import chainer  # noqa: E402
import chainer.functions as F  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from models import networks  # noqa: E402
from alternate import alternate  # noqa: E402
from kernels.engine import ActingEngine  # noqa: E402
from kernels.lstm_segment import lstm_segment  # noqa: E402
from kernels.npconv import ConvStack  # noqa: E402
from models.optimizers import make_optimizer  # noqa: E402


def acting_run(engine, batch, samples, rng):
    """Samples/s acting on ``batch`` observations per call."""
    x = rng.random((batch, 1, 80, 80), dtype=np.float32)
    state = (np.zeros((batch, 256), np.float32),
             np.zeros((batch, 256), np.float32))
    calls = max(1, samples // batch)
    engine(x, state)
    start = time.perf_counter()
    for _ in range(calls):
        engine(x, state)
    return calls * batch / (time.perf_counter() - start)


def update_run(model, optimizer, engine, segments, t_max, samples, rng):
    """Samples/s of the update's work on ``segments`` segments of
    ``t_max`` steps per pass (the segments run through the LSTM one after
    another here, as one sequence: the same arithmetic)."""
    steps = segments * t_max
    x = rng.random((steps, 1, 80, 80), dtype=np.float32)
    state = (np.zeros((steps, 256), np.float32),
             np.zeros((steps, 256), np.float32))
    _, _, _, features = engine(x, state)
    actions = rng.integers(0, 4, steps).astype(np.int32)
    advantages = rng.standard_normal(steps).astype(np.float32)
    convs = ConvStack(model.convs, 'elu')

    def one_update():
        convs.keep(x, features)
        top = chainer.Variable(features[-1])
        pout, vout = model.heads(lstm_segment(model.lstm, top, None))
        loss = (-F.sum(pout.log_prob(actions) * advantages)
                - 0.01 * F.sum(pout.entropy) + F.sum(vout ** 2) / 2)
        model.cleargrads()
        loss.backward()
        for link, (gW, gb) in zip(model.convs, convs.backward(top.grad)):
            link.W.grad, link.b.grad = gW, gb
        optimizer.update()

    updates = max(1, samples // steps)
    one_update()
    start = time.perf_counter()
    for _ in range(updates):
        one_update()
    return updates * steps / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--envs', type=int, default=8,
                   help='environments per worker in the batched variant')
    p.add_argument('--t-max', type=int, default=5, help='segment length')
    p.add_argument('--samples', type=int, default=400,
                   help='samples timed per run')
    p.add_argument('--repeats', type=int, default=3,
                   help='runs of each variant, alternating')
    args = p.parse_args()
    if args.envs < 2 or args.t_max < 1 or args.samples < 1 or \
            args.repeats < 1:
        p.error('--envs must be at least 2; --t-max, --samples and '
                '--repeats at least 1')

    rng = np.random.default_rng(0)
    model = networks.A3CLSTMCNN(4)
    optimizer = make_optimizer('adam', 1e-4)
    optimizer.setup(model)
    with threadpool_limits(limits=1):
        engine = ActingEngine(model, features=True)
        acting = alternate({
            'act 1': lambda i: acting_run(engine, 1, args.samples, rng),
            'act {}'.format(args.envs): lambda i: acting_run(
                engine, args.envs, args.samples, rng),
        }, args.repeats)
        update = alternate({
            'update 1 segment': lambda i: update_run(
                model, optimizer, engine, 1, args.t_max, args.samples,
                rng),
            'update {} segments'.format(args.envs): lambda i: update_run(
                model, optimizer, engine, args.envs, args.t_max,
                args.samples, rng),
        }, args.repeats)
    for label, medians in (('acting', acting), ('update', update)):
        (one, r1), (many, r2) = medians.items()
        print('{}: median samples/s: {} {:.1f}, {} {:.1f}; speed-up '
              '{:.2f}'.format(label, one, r1, many, r2, r2 / r1))
    act1, act_n = acting.values()
    upd1, upd_n = update.values()
    # A training step: one acting sample and one update sample.
    whole = (1 / act1 + 1 / upd1) / (1 / act_n + 1 / upd_n)
    print('acting + update per sample: speed-up {:.2f}'.format(whole))


if __name__ == '__main__':
    main()
