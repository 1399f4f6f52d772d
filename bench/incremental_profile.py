"""Where the incremental pass spends its time, part by part.

On one real frame of a shipped agent's game (as ``incremental_scoring.py``
picks it), runs ``Incremental.masked`` ``--calls`` times on one method's
masks (the plan made once, outside the timing) and times every ONNX
Runtime run inside it by wrapping the sessions: the chained run (the
first convolution through the difference, each later convolution's
gather and product, and the tail on whole feature maps, as far as the
call chains them), the tail through the change. The chained run is split
into its parts by ONNX Runtime's own profiler (which slows it a little).
What is left of each call is NumPy work (which row holds each mask's
activation, patch indices). Then each convolution's product alone, on
random rows of the same shape in a graph of just the product, for what
its gather costs. Milliseconds per call:

    python bench/incremental_profile.py --threads 2
"""
import argparse
import collections
import os
import json
import re
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from agents import load_agent  # noqa: E402
from incremental_scoring import PRETRAINED, frame_of  # noqa: E402
from kernels import engine  # noqa: E402
from kernels.graphs import _Graph  # noqa: E402
from saliency import make_saliency  # noqa: E402


class Timed:
    """A session whose runs add their time to ``totals[label(feed)]``."""

    def __init__(self, session, label, totals):
        self.session, self.label, self.totals = session, label, totals

    def run(self, names, feed):
        start = time.perf_counter()
        out = self.session.run(names, feed)
        self.totals[self.label(feed)] += time.perf_counter() - start
        return out


def product_alone(rows, depth, width, threads, calls):
    """Median ms of ``(rows, depth) @ (depth, width)`` in a graph of just
    that product."""
    g = _Graph()
    rng = np.random.default_rng(0)
    g.nodes.append(g.helper.make_node('MatMul', ['x', g.const(
        rng.random((depth, width), np.float32))], ['y']))
    session = engine.session(g.model([('x', ['N', depth])],
                                     [('y', ['N', width])]), 'cpu', threads,
                             spinning=False)
    x = rng.random((rows, depth), np.float32)
    session.run(['y'], {'x': x})
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        session.run(['y'], {'x': x})
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def chain_parts(profile, runs, offset):
    """Milliseconds per run of each part of a chained model, from ONNX
    Runtime's profile file (the first run, untimed, left out): part ``i``
    is convolution ``i + 2 - offset`` (the first layer when 0 with
    ``offset``), the last part past the convolutions the tail."""
    with open(profile) as f:
        events = json.load(f)
    os.remove(profile)
    starts = sorted(e['ts'] for e in events if e.get('cat') == 'Session'
                    and e['name'] == 'model_run')
    first = starts[1] if len(starts) > 1 else 0
    totals = collections.defaultdict(float)
    for e in events:
        # Fused nodes are named 'fused g2_...' and the like.
        part = re.search(r'\bg(\d+)_', e['name'])
        if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time') \
                and part and e['ts'] >= first:
            totals[int(part.group(1))] += e['dur'] / 1000
    return {part + 1 - offset: ms / max(runs - 1, 1)
            for part, ms in totals.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--calls', type=int, default=20)
    p.add_argument('--agent', default='pong')
    p.add_argument('--method', default='greydanus')
    args = p.parse_args(argv)
    engine.set_threads(args.threads)
    agent, info = load_agent(os.path.join(PRETRAINED, args.agent))
    model, frame = agent.model, frame_of(agent, info)
    scorer = engine.engine_for(model).incremental()
    keep, fill = make_saliency(args.method, model=model).masks_and_fill(
        frame)
    plan = scorer.plan(frame, keep, fill)
    layers = len(scorer.layers)
    totals = collections.defaultdict(float)

    # The chained run (the first layer, the later convolutions and the
    # tail on whole feature maps, or the convolutions alone) is timed
    # whole and, part by part, by ONNX Runtime's own profiler (its nodes
    # are named g{i}_...: part i of the chain).
    profiled = []

    def profiling_session(graph, threads):
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = \
            threads, 1
        options.add_session_config_entry('session.intra_op.allow_spinning',
                                         '0')
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(
            tempfile.mkdtemp(), 'chain')
        session = ort.InferenceSession(graph.SerializeToString(), options,
                                       providers=['CPUExecutionProvider'])
        profiled.append((session, int(graph.graph.input[0].name
                                      == 'g0_patches')))
        return Timed(session, lambda feed: 'chained run (below)', totals)
    scorer._session = profiling_session
    names = ['first layer (the difference)', 'tail after its linear map',
             'tail: linear map through the change']
    scorer.runs = [Timed(run, lambda feed, name=name: name, totals)
                   for run, name in zip(scorer.runs, names)]
    with threadpool_limits(limits=args.threads):
        scorer.masked(frame, keep, fill, plan=plan)
        totals.clear()
        start = time.perf_counter()
        for _ in range(args.calls):
            scorer.masked(frame, keep, fill, plan=plan)
        whole = (time.perf_counter() - start) / args.calls
        start = time.perf_counter()
        for _ in range(args.calls):
            scorer.plan(frame, keep, fill)
        planning = (time.perf_counter() - start) / args.calls
        print('{} {}: {} masks, changed outputs per layer {}, estimated '
              'share {:.2f}'.format(args.agent, args.method, len(keep),
                                    [int(c.sum()) for c in plan.changed],
                                    plan.share))
        for name, total in sorted(totals.items(), key=lambda kv: -kv[1]):
            print('{:40s} {:6.2f} ms'.format(name, 1000 * total
                                             / args.calls))
        rest = whole - sum(totals.values()) / args.calls
        print('{:40s} {:6.2f} ms'.format('NumPy and the rest', 1000 * rest))
        print('{:40s} {:6.2f} ms'.format('a call (the plan given)',
                                         1000 * whole))
        print('{:40s} {:6.2f} ms'.format('the plan', 1000 * planning))
        layers = len(scorer.layers)
        for session, offset in profiled:
            for conv, ms in sorted(chain_parts(session.end_profiling(),
                                               args.calls + 1,
                                               offset).items()):
                name = ('first layer' if conv == 0 else
                        'tail on whole feature maps' if conv == layers
                        else 'conv{}: gather and product'.format(conv + 1))
                print('  {:38s} {:6.2f} ms'.format(name, ms))
        for i, layer in enumerate(scorer.layers[1:], 1):
            rows = int(plan.changed[i].sum())
            depth = layer.taps * layer.channels
            print('conv{} product alone ({} x {} @ {} x {}): {:.2f} ms'
                  .format(i + 1, rows, depth, depth, layer.out_channels,
                          product_alone(rows, depth, layer.out_channels,
                                        args.threads, args.calls)))


if __name__ == '__main__':
    main()
