"""Saliency maps computed on a Dask cluster (``--scheduler``, ``--cluster``).

The frame-range app and the faithfulness report spend their time on maps,
one frame independent of the next. :class:`ClusterMaps` ships that work to
Dask distributed workers as chunks of recorded frames (observations and,
for a recurrent agent, the state each was seen with), never as
environments or sessions:

* the network goes to the cluster once, as its weights and what builds
  it, in a task of its own that every chunk depends on (not scattered
  data: the scheduler keeps the task and recomputes it if every worker
  that held its result dies, while scattered data would be lost with
  them); each worker builds the network, its saliency method and so its
  ONNX Runtime session once per weights and method (a per-process
  cache), with one intra-op thread;
* each task computes :data:`FRAMES_PER_TASK` frames; results come back in
  frame order, and the progress bar counts frames as tasks finish;
* a worker that dies mid-task has its chunk recomputed by Dask elsewhere;
  a scheduler that cannot be reached, or a cluster lost mid-run, ends in
  :class:`ClusterError` (one line) before anything is written.

Dask is imported only when a cluster is asked for.
"""
import hashlib
import os

import numpy as np

from models.networks import ARCHS, phi
from saliency.base import maps_of

# Frames per task: a Greydanus frame costs ~40 ms on one core, so a task is
# ~0.3 s of work against the scheduler's few milliseconds per task, and
# 1,000 frames make 125 tasks to balance (bench/cluster_scaling.py).
FRAMES_PER_TASK = 8
CONNECT_TIMEOUT = '10s'


class ClusterError(RuntimeError):
    """A scheduler that cannot be reached or a cluster lost mid-run."""


def parse_local(text):
    """``local`` or ``local:N`` -> N worker processes (``local``: one per
    core); raises ValueError otherwise."""
    name, _, count = text.partition(':')
    if name != 'local':
        raise ValueError('--cluster takes local or local:N, got {!r}'.format(
            text))
    if not count:
        return max(1, os.cpu_count() or 1)
    if not count.isdigit() or not 1 <= int(count) <= 256:
        raise ValueError('--cluster local:N needs N in 1..256, got {!r}'
                         .format(count))
    return int(count)


def from_flags(args):
    """The :class:`Cluster` that ``--scheduler`` or ``--cluster`` ask for
    (:func:`common.cli.add_cluster_flags`), or None; ValueError for a bad
    ``--cluster``, or for ``--device`` other than cpu beside one."""
    asked = (getattr(args, 'scheduler', None)
             or getattr(args, 'cluster', None))
    if asked and getattr(args, 'device', 'cpu') != 'cpu':
        raise ValueError('--device {} applies to this machine; a cluster\'s '
                         'workers run on their CPUs'.format(args.device))
    if getattr(args, 'scheduler', None):
        return Cluster(address=args.scheduler)
    if getattr(args, 'cluster', None):
        return Cluster(n_workers=parse_local(args.cluster))
    return None


class Cluster:
    """A Dask client: on a running scheduler (``address``) or on a
    ``LocalCluster`` of ``n_workers`` processes of one thread each. Use as
    a context manager; :class:`ClusterError` if it cannot be had."""

    def __init__(self, address=None, n_workers=None):
        self.address, self.n_workers = address, n_workers
        self.client = self._local = None

    def __enter__(self):
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:     # the suite's requirements include it
            raise ClusterError('Dask distributed is not installed ({})'
                               .format(e))
        try:
            if self.address:
                self.client = Client(self.address, timeout=CONNECT_TIMEOUT)
            else:
                self._local = LocalCluster(
                    n_workers=self.n_workers, threads_per_worker=1,
                    processes=True, dashboard_address=None)
                self.client = Client(self._local, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            self.__exit__(None, None, None)
            raise ClusterError('cannot reach the Dask scheduler at {}: {}'
                               .format(self.address or 'a local cluster',
                                       _line(e)))
        return self

    def __exit__(self, *exc):
        for thing in (self.client, self._local):
            if thing is not None:
                try:
                    thing.close()
                except Exception:       # already gone with the cluster
                    pass
        self.client = self._local = None


def _line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def network_payload(model, arch, n_actions, frames):
    """What rebuilds ``model`` on a worker: its architecture and sizes,
    its weights, and a token naming those weights."""
    weights = {name: np.array(param.array)
               for name, param in model.namedparams()}
    digest = hashlib.sha1(arch.encode())
    for name in sorted(weights):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(weights[name]).tobytes())
    return {'arch': arch, 'n_actions': int(n_actions),
            'frames': int(frames), 'weights': weights,
            'token': digest.hexdigest()}


# Per worker process: (weights token, method name, chunk, scoring) ->
# (model,
# method), built once.
_BUILT = {}


def _built(payload, method_name, chunk, scoring='auto'):
    key = (payload['token'], method_name, chunk, scoring)
    if key not in _BUILT:
        from threadpoolctl import threadpool_limits

        from kernels import engine
        from saliency import make_saliency
        threadpool_limits(limits=1)     # one thread per worker process
        engine.set_threads(1)
        model = ARCHS[payload['arch']].make_model(payload['n_actions'],
                                                  payload['frames'])
        for name, param in model.namedparams():
            param.array[...] = payload['weights'][name]
        model.weights_changed()
        _BUILT.clear()            # one network at a time per worker
        _BUILT[key] = (model, make_saliency(method_name, chunk=chunk,
                                            model=model, scoring=scoring))
    return _BUILT[key]


def maps_task(payload, method_name, chunk, states, recurrent, scaled,
              scoring='auto'):
    """Actor and critic maps ``(n, H, W)`` of ``states`` (uint8
    observations unless ``scaled``), each from its recurrent state."""
    import chainer
    model, method = _built(payload, method_name, chunk, scoring)
    with chainer.using_config('train', False):
        return maps_of(method, model, states, recurrent,
                       prepare=None if scaled else phi)


def _lost_errors():
    """The exceptions that mean the cluster, not the work, failed."""
    import asyncio
    import concurrent.futures
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker
    return (KilledWorker, CommClosedError, OSError, TimeoutError,
            asyncio.CancelledError, concurrent.futures.CancelledError)


def payload_task(payload):
    """The network's payload as a task's result (what chunks depend on)."""
    return payload


class ClusterMaps:
    """Maps of many frames, computed by the workers of ``client``."""

    def __init__(self, client, frames_per_task=FRAMES_PER_TASK):
        self.client = client
        self.frames_per_task = frames_per_task
        self._payloads = {}

    def _payload(self, model, arch, n_actions, frames):
        payload = network_payload(model, arch, n_actions, frames)
        token = payload['token']
        if token not in self._payloads:
            # A task, not scattered data: Dask's memory manager keeps one
            # copy of a result it does not need more of, and a scattered
            # key whose last copy dies with its worker is forgotten with
            # every chunk that needs it (seen as FutureCancelledError).
            self._payloads[token] = self.client.submit(
                payload_task, payload, key='network-' + token, pure=False)
        return self._payloads[token]

    def maps(self, model, arch, n_actions, frames, method_name, chunk,
             states, recurrent=None, scaled=False, progress=None,
             done=None, scoring='auto'):
        """``(actor, critic)`` ``(len(states), H, W)``, in the order of
        ``states``; ``progress(k)`` after every ``k`` frames done; ``done``
        (a dict), if given, receives each finished chunk as ``{first index:
        (actor, critic)}`` as it arrives (what Ctrl-C leaves).

        Raises:
            ClusterError: the cluster was lost (workers killed more often
                than Dask retries, the scheduler gone).
        """
        from distributed import as_completed
        lost = _lost_errors()
        n = len(states)
        try:
            payload = self._payload(model, arch, n_actions, frames)
            futures = {}
            for start in range(0, n, self.frames_per_task):
                stop = min(n, start + self.frames_per_task)
                future = self.client.submit(
                    maps_task, payload, method_name, chunk,
                    np.asarray(states[start:stop]),
                    None if recurrent is None else np.asarray(
                        recurrent[start:stop]), scaled, scoring, pure=False)
                futures[future] = start
            parts = {} if done is None else done
            for future in as_completed(list(futures)):
                parts[futures[future]] = future.result()
                if progress is not None:
                    progress(len(parts[futures[future]][0]))
        except RuntimeError as e:
            if 'deserialization' not in str(e):
                raise               # the work's own failure
            raise ClusterError(
                'the Dask cluster cannot read the tasks: start its scheduler '
                'and workers in this repository\'s environment with '
                'PYTHONPATH=examples/mygym')
        except lost as e:
            raise ClusterError('lost the Dask cluster: {}: {}'.format(
                type(e).__name__, _line(e)))
        order = sorted(parts)
        return (np.concatenate([parts[s][0] for s in order]),
                np.concatenate([parts[s][1] for s in order]))
