"""ONNX Runtime sessions of the suite's networks (no gradients).

Chainer trains and stays the reference; every forward pass that needs no
gradient (perturbation scoring, the report's curves, a training worker's
acting) can run through an ONNX graph of :mod:`kernels.graphs`, executed
here by ONNX Runtime on the CPU or, with ``onnxruntime-gpu``, on CUDA.

:class:`Engine` wraps a session (``__call__`` and ``masked(state, keep,
fill, recurrent_state)``, the dense pass) and the incremental scorer of
:mod:`kernels.incremental` (``incremental()``). :func:`engine_for`
returns one for a model it can run (:func:`model_kind`; None
otherwise), rebuilt when the model says its weights changed.
:class:`ActingEngine` runs a training worker's steps with the weights as
inputs; :func:`per_model` caches anything built from a model's weights
(guided backpropagation's backward session).
"""
import os
import weakref

import numpy as np

from kernels.graphs import EngineError, State, forward_graph, model_kind
from kernels.incremental import Incremental

DEVICES = ('cpu', 'cuda')
# How perturbation masks are scored (saliency.scoring, kernels.incremental).
SCORINGS = ('auto', 'dense', 'incremental')


def providers(device):
    """ONNX Runtime execution providers for ``device``; an
    :class:`EngineError` (one line) if it is not available."""
    if device not in DEVICES:
        raise EngineError('unknown device {!r}; choose from {}'.format(
            device, ', '.join(DEVICES)))
    try:
        import onnxruntime as ort
    except ImportError as e:          # pragma: no cover - in requirements
        raise EngineError('onnxruntime is missing: {}'.format(e))
    if device == 'cpu':
        return ['CPUExecutionProvider']
    if 'CUDAExecutionProvider' not in ort.get_available_providers():
        raise EngineError(
            '--device cuda needs onnxruntime-gpu and a CUDA GPU (pip install '
            '-r requirements-gpu.txt); this onnxruntime offers {}'.format(
                ', '.join(ort.get_available_providers())))
    return ['CUDAExecutionProvider', 'CPUExecutionProvider']


def session(graph, device='cpu', threads=None, spinning=True):
    """An ONNX Runtime session of ``graph`` on ``device``; without
    ``spinning`` its threads sleep between runs (for sessions that take
    turns with NumPy work)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    if not spinning:
        options.add_session_config_entry('session.intra_op.allow_spinning',
                                         '0')
    return ort.InferenceSession(graph.SerializeToString(), options,
                                providers=providers(device))


class Engine:
    """An ONNX Runtime session of one of the suite's networks.

    Args:
        model: a network the engine runs (see :func:`model_kind`).
        device (str): ``'cpu'`` or ``'cuda'``.
        threads (int or None): intra-op threads (None: ONNX Runtime's
            choice, all cores).
    """

    def __init__(self, model, device='cpu', threads=None):
        self.state = State(model)
        self._build = forward_graph
        self._model, self._options = model, (device, threads)
        # Its threads sleep between runs, so that what runs next (NumPy,
        # Chainer, the incremental pass) gets the cores; no slower
        # (bench/README.md, incremental scoring).
        self.masked_session = session(self._build(model, masked=True),
                                      device, threads, spinning=False)
        self._session = None      # the plain step, built when first asked
        self._incremental = None

    def incremental(self):
        """The model's :class:`incremental.Incremental` scorer (CPU), on
        the engine's threads (None: every core)."""
        if self._incremental is None:
            threads = self._options[1] or len(os.sched_getaffinity(0))
            self._incremental = Incremental(
                self._model,
                lambda graph, n: session(graph, 'cpu', n, spinning=False),
                threads)
        return self._incremental

    def __call__(self, x, state=None):
        """``x`` ``(k, C, H, W)`` -> ``(scores, values)``, and for a
        recurrent network the next state parts (a tuple: ``(c, h)`` for
        an LSTM, ``(h,)`` for a GRU; ``state`` None: zeros)."""
        if self._session is None:
            self._session = session(self._build(self._model),
                                    *self._options)
        return _step(self._session, {}, x, state, self.state)

    def masked(self, state, keep, fill, recurrent_state=None):
        """Scores and values of ``K * I + (1 - K) * F`` for each keep mask
        (every one from the flat ``recurrent_state``; None: zeros)."""
        feed = {'keep': np.ascontiguousarray(keep, dtype=np.float32),
                'image': np.ascontiguousarray(state, dtype=np.float32),
                'fill': np.ascontiguousarray(np.broadcast_to(
                    np.asarray(fill, np.float32), state.shape))}
        feed.update(self.state.rows(recurrent_state))
        return tuple(self.masked_session.run(['scores', 'values'], feed))


class ActingEngine:
    """One forward step of a model whose weights change while it acts (a
    training worker's, synced every few steps): the graph takes the
    weights as inputs, fed from the model's parameters at every call, so
    the session is built once.

    ``__call__(x, state=None)`` as :class:`Engine`'s; with ``features``,
    a step also returns every layer's output, last: each convolution's
    (``conv1`` ..) and, where the network has dense layers, the last
    one's (``hidden``), see :func:`graphs.forward_graph`.
    """

    def __init__(self, model, threads=1, features=False):
        self.state = State(model)
        self.live = []
        graph = forward_graph(model, live=self.live, features=features)
        st = model.structure
        self.extra = ((['conv{}'.format(k)
                        for k in range(1, len(st.convs) + 1)]
                       + (['hidden'] if st.dense else []))
                      if features else [])
        self.session = session(graph, threads=threads)

    def __call__(self, x, state=None):
        return _step(self.session,
                     {name: param.array for name, param in self.live},
                     x, state, self.state, self.extra)


def _step(run, feed, x, state, layout, extra=()):
    """One step through session ``run`` with ``feed`` (weights, if any):
    ``(scores, values)``, and for a recurrent graph the next state parts
    (a tuple in ``layout``'s order; ``state`` None: zeros) and, if any,
    the ``extra`` outputs (a list)."""
    feed['x'] = np.ascontiguousarray(x, dtype=np.float32)
    if not layout.recurrent:
        scores, values, *more = run.run(['scores', 'values'] + list(extra),
                                        feed)
        return (scores, values, more) if extra else (scores, values)
    if state is None:
        zeros = np.zeros((len(x), layout.units), np.float32)
        state = (zeros,) * len(layout.names)
    for name, part in zip(layout.names, state):
        feed[name] = np.ascontiguousarray(part, np.float32)
    n = len(layout.names)
    scores, values, *rest = run.run(
        ['scores', 'values'] + [name + '_next' for name in layout.names]
        + list(extra), feed)
    if extra:
        return scores, values, tuple(rest[:n]), rest[n:]
    return scores, values, tuple(rest[:n])


_CACHE = weakref.WeakKeyDictionary()
_THREADS = [None]


def set_threads(threads):
    """Intra-op threads of engines built from now on (None: all cores);
    worker processes that share the cores set 1."""
    _THREADS[0] = threads


def per_model(model, tag, build):
    """``build(model)``, kept with ``model`` under ``tag`` and built again
    when the model's ``weights_version`` moves (see
    :class:`networks.SuiteNetwork`)."""
    version = model.weights_version
    entries = _CACHE.setdefault(model, {})
    if tag not in entries or entries[tag][0] != version:
        entries[tag] = (version, build(model))
    return entries[tag][1]


def engine_for(model, device='cpu'):
    """The cached :class:`Engine` of ``model`` (rebuilt when its weights
    change), or None for a model the engine does not run."""
    if model_kind(model) is None:
        return None
    threads = _THREADS[0]
    return per_model(model, ('engine', device, threads),
                     lambda m: Engine(m, device, threads))
