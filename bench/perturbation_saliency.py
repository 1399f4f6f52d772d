"""Perturbation saliency speed: batched Greydanus against a one-mask loop.

On the ICLR-ACER network with the shipped Pong agent's weights (A3CFF,
84x84x4 input, real Pong observations), the Greydanus method with r=5, d=5
(a 17x17 grid: 289 masks on 84x84), per frame:

* engine: this suite's ``GreydanusSaliency`` with dense scoring (actor
  and critic from the same batched forward passes of ``--chunk`` inputs,
  through ONNX Runtime, :mod:`engine`);
* dense / incremental: the scoring of Greydanus' masks and of occlusion's
  (XAITK's 5x5 sliding window, fill 0), by the dense engine and by the
  incremental path (:mod:`kernels.incremental`: only what each mask
  changes), side by side; each timed call follows an untimed one of its
  own kind (so that it never shares the cores with the other's
  still-spinning threads); the maps of the two are checked equal
  (relative 1e-5);
* numpy: the same method scored through the NumPy forward with the
  windowed first layer (defined here, chunk 32), the suite's
  path before the engine;
* one mask at a time, as the paper's code does it: one perturbed image per
  forward pass, once for the actor and once for the critic
  (2 x 289 passes). The single-pass variant of the loop (actor and critic
  from one pass per mask, 289 passes) is timed too.

Then the frame-range app's frames/s with 1 and 2 workers on a recorded
rollout. Timings are medians over ``--frames`` frames and alternating
repeats; the headline ratios (dense / incremental for Greydanus and
occlusion, paper's loop / engine, numpy / engine) are printed last.

    python bench/perturbation_saliency.py --repeats 3 --threads 2
"""
import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import chainer  # noqa: E402
import numpy as np  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import saliency_app  # noqa: E402
import agents  # noqa: E402
from models import networks  # noqa: E402
import train_a3c_gym  # noqa: E402
from env_gym_chainer import GymEnvironment  # noqa: E402
from kernels import engine  # noqa: E402
from saliency import GreydanusSaliency, make_saliency  # noqa: E402
from kernels.npconv import Conv  # noqa: E402
from saliency.greydanus import blob_masks  # noqa: E402

SHIPPED = os.path.join(HERE, '..', 'examples', 'mygym', 'pretrained', 'pong')


# The NumPy forward the suite scored perturbations with before the engine,
# kept here as what the engine is measured against.


def _first_layer_matrix(conv):
    """Chainer ``(O, C, kh, kw)`` weights as a ``(C * kh * kw, O)`` matrix:
    rows in the order of channels-first patches."""
    w = conv.W.array
    return np.ascontiguousarray(w.reshape(w.shape[0], -1).T,
                                dtype=np.float32)


def _output_span(touched, ksize, stride, n_out):
    """First and last output index whose receptive field meets a touched
    input index, per mask: ``touched`` is ``[k, n_in]`` bool. Masks that
    touch nothing get an empty span at 0."""
    any_touched = touched.any(axis=1)
    first = np.where(any_touched, touched.argmax(axis=1), 0)
    last = np.where(any_touched,
                    touched.shape[1] - 1 - touched[:, ::-1].argmax(axis=1), 0)
    lo = np.maximum(0, -(-(first - ksize + 1) // stride))
    hi = np.minimum(n_out - 1, last // stride)
    return lo, np.maximum(hi, lo)


class FastFFForward:
    """``(k, C, H, W)`` float32 -> actor scores and values.

    Args:
        model: an ``A3CFF`` whose head uses ReLU or guided ReLU, with a
            softmax policy and a state-value head.
    """

    def __init__(self, model):
        head = model.head
        first = head[0]
        # The first layer reads the channels-first input itself (masked
        # windows are cut from it); the others are npconv convolutions.
        self.first = (_first_layer_matrix(first),
                      first.b.array.astype(np.float32),
                      first.ksize if isinstance(first.ksize, tuple)
                      else (first.ksize, first.ksize),
                      first.stride if isinstance(first.stride, tuple)
                      else (first.stride, first.stride))
        self.convs = [Conv.from_link(c) for c in head[1:3]]
        linear = head[3]
        w = linear.W.array                        # (256, C*h*w), C-major
        channels = head[2].W.shape[0]
        side = int(round((w.shape[1] / channels) ** 0.5))
        self.linear = (np.ascontiguousarray(
            w.reshape(-1, channels, side, side).transpose(2, 3, 1, 0)
            .reshape(-1, w.shape[0]), dtype=np.float32),
            linear.b.array.astype(np.float32))
        pi, v = model.pi.model.output, model.v.model.output
        self.pi = (np.ascontiguousarray(pi.W.array.T), pi.b.array)
        self.v = (np.ascontiguousarray(v.W.array.T), v.b.array)

    @staticmethod
    def _first_conv_relu(x, weights, bias, ksize, stride):
        """Valid convolution + bias + ReLU of channels-first ``x``
        ``(k, C, H, W)`` as one matrix product; returns ``(k, OH, OW, O)``.
        """
        k, channels, height, width = x.shape
        sk, sc, sy, sx = x.strides
        kh, kw = ksize
        sh, sw = stride
        out_h = (height - kh) // sh + 1
        out_w = (width - kw) // sw + 1
        # Innermost axes (C, kh, kw): the rows of the weight matrix.
        patches = np.lib.stride_tricks.as_strided(
            x, (k, out_h, out_w, channels, kh, kw),
            (sk, sy * sh, sx * sw, sc, sy, sx), writeable=False)
        out = patches.reshape(k * out_h * out_w, -1) @ weights
        out += bias
        np.maximum(out, 0, out=out)
        return out.reshape(k, out_h, out_w, -1)

    def __call__(self, x):
        """``(k, C, H, W)`` float32 -> (scores ``(k, n)``, values ``(k,)``).
        """
        h = np.ascontiguousarray(x, dtype=np.float32)
        return self._from_first_layer(self._first_conv_relu(h, *self.first))

    def masked(self, state, keep, fill, recurrent_state=None):
        """Scores and values of ``K * I + (1 - K) * F`` for each keep mask.

        Equal to ``self(masked_inputs(state, keep, fill))``, but where the
        masks perturb only a small window (Greydanus blobs, sliding
        windows), the first convolution is computed once for ``I`` and
        recomputed per mask only on the outputs whose receptive field meets
        the mask's perturbed pixels; elsewhere the masked input equals ``I``
        exactly, and so does the output.

        Args:
            state: ``(C, H, W)`` float32; keep: ``[k, H, W]``; fill:
                broadcastable to ``state``; recurrent_state: ignored
                (the network has no state).
        """
        weights, bias, (kh, kw), (sh, sw) = self.first
        channels, height, width = state.shape
        out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
        touched = keep < 1
        rows = _output_span(touched.any(axis=2), kh, sh, out_h)
        cols = _output_span(touched.any(axis=1), kw, sw, out_w)
        win_h = int((rows[1] - rows[0]).max(initial=0)) + 1
        win_w = int((cols[1] - cols[0]).max(initial=0)) + 1
        if win_h * win_w > 0.6 * out_h * out_w:
            batch = keep[:, None] * state[None] + (1 - keep[:, None]) * fill
            return self(batch.astype(np.float32))
        base = self._first_conv_relu(state[None], weights, bias, (kh, kw),
                                     (sh, sw))[0]
        top = np.clip(rows[0], 0, out_h - win_h)
        left = np.clip(cols[0], 0, out_w - win_w)
        in_h, in_w = (win_h - 1) * sh + kh, (win_w - 1) * sw + kw
        fill = np.broadcast_to(np.asarray(fill, dtype=np.float32),
                               state.shape)
        windows = np.empty((len(keep), channels, in_h, in_w), np.float32)
        for i, (y, x) in enumerate(zip(top * sh, left * sw)):
            k = keep[i, y:y + in_h, x:x + in_w]
            windows[i] = (k * state[:, y:y + in_h, x:x + in_w]
                          + (1 - k) * fill[:, y:y + in_h, x:x + in_w])
        patched = self._first_conv_relu(windows, weights, bias, (kh, kw),
                                        (sh, sw))
        h = np.repeat(base[None], len(keep), axis=0)
        for i, (y, x) in enumerate(zip(top, left)):
            h[i, y:y + win_h, x:x + win_w] = patched[i]
        return self._from_first_layer(h)

    def _from_first_layer(self, h):
        for conv in self.convs:
            h = conv.forward(h)
            np.maximum(h, 0, out=h)
        h = h.reshape(len(h), -1) @ self.linear[0]
        h += self.linear[1]
        np.maximum(h, 0, out=h)
        scores = h @ self.pi[0] + self.pi[1]
        values = (h @ self.v[0] + self.v[1])[:, 0]
        return scores, values


class NumpyGreydanus(GreydanusSaliency):
    """The Greydanus method scored through the NumPy forward (windowed
    first layer), as the suite did before :mod:`engine`."""

    def score(self, model, state, keep, fill, recurrent_state=None):
        fast = FastFFForward(model)
        scores, values = [], []
        for begin in range(0, len(keep), self.chunk):
            s, v = fast.masked(state, keep[begin:begin + self.chunk], fill)
            scores.append(s)
            values.append(v)
        return np.concatenate(scores), np.concatenate(values)


def one_mask_loop(model, state, separate_passes):
    """Greydanus saliency with one perturbed image per forward pass."""
    image = state[0]
    blurred = gaussian_filter(image, sigma=(0, 3, 3))
    blobs, grid = blob_masks(image.shape[1:], 5, 5)
    with chainer.no_backprop_mode(), chainer.using_config('train', False):
        policy, value = model.pi_and_v(state)
        ref_logits, ref_value = policy.logits.array[0], value.array[0, 0]
        actor, critic = np.zeros(len(blobs)), np.zeros(len(blobs))
        for k, blob in enumerate(blobs):
            x = (image * (1 - blob) + blurred * blob)[None].astype(np.float32)
            p, v = model.pi_and_v(x)
            actor[k] = 0.5 * ((p.logits.array[0] - ref_logits) ** 2).sum()
            if separate_passes:
                p, v = model.pi_and_v(x)
            critic[k] = 0.5 * (v.array[0, 0] - ref_value) ** 2
    return actor.reshape(grid), critic.reshape(grid)


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def app_frames_per_second(rollout, out, workers, n_frames):
    argv = ['--rollout', rollout, '--start-frame', '0', '--end-frame',
            str(n_frames - 1), '--method', 'greydanus', '--out', out,
            '--workers', str(workers)]
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        assert saliency_app.main(argv) == 0
    return n_frames / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed repeats of each variant, alternating')
    parser.add_argument('--chunk', type=int, default=64,
                        help='inputs per forward pass of the engine')
    parser.add_argument('--frames', type=int, default=5,
                        help='real Pong frames timed')
    parser.add_argument('--app-frames', type=int, default=8,
                        help='frames per app run')
    parser.add_argument('--threads', type=int, default=2,
                        help='BLAS and ONNX Runtime threads for the '
                             'per-frame timings (every variant)')
    args = parser.parse_args(argv)
    engine.set_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        ms = time_methods(args)
    app_fps = time_app(args)
    for workers in (1, 2):
        print('app, {} worker(s):            {:6.2f} frames/s'.format(
            workers, app_fps[workers]))
    for name in ('greydanus', 'occlusion'):
        print('ratio dense/incremental ({}): {:.2f}'.format(
            name, ms['dense ' + name] / ms['incremental ' + name]))
    print('ratio one-pass loop/engine: {:.1f}'.format(
        ms['loop, one pass'] / ms['engine']))
    print('ratio numpy forward/engine: {:.2f}'.format(
        ms['numpy'] / ms['engine']))
    print('ratio paper loop (actor+critic passes)/engine: {:.1f}'.format(
        ms['loop, actor+critic passes'] / ms['engine']))


def time_methods(args):
    env = GymEnvironment('PongNoFrameskip-v4', seed=0)
    obs = env.reset()
    states = []
    for t in range(30 + 10 * args.frames):
        obs = env.step(t % env.n_actions)[0]
        if t >= 30 and t % 10 == 0:
            states.append(networks.phi(obs)[None])
    env.close()
    model = agents.load_agent(SHIPPED)[0].model
    variants = {
        'engine': GreydanusSaliency(chunk=args.chunk, scoring='dense'),
        'numpy': NumpyGreydanus(chunk=32),
    }
    for method in variants.values():
        method(model, states[0])                # masks cached, warm
    scorers = {}
    for name in ('greydanus', 'occlusion'):
        for scoring in ('dense', 'incremental'):
            scorers[scoring + ' ' + name] = make_saliency(
                name, chunk=args.chunk, scoring=scoring)
    # The scoring alone, dense engine against incremental path, on each
    # frame's masks and fill; both give the same maps.
    inputs = {name: [method.masks_and_fill(state[0]) for state in states]
              for name, method in scorers.items()}
    maps = {name: [method(model, state) for state in states]
            for name, method in scorers.items()}
    for name in ('greydanus', 'occlusion'):
        for dense, fast in zip(maps['dense ' + name],
                               maps['incremental ' + name]):
            for which in ('actor', 'critic'):
                want, got = getattr(dense, which), getattr(fast, which)
                assert np.abs(got - want).max() <= 1e-5 * np.abs(
                    want).max(), (name, which)
    times = {name: [] for name in list(variants) + list(scorers)}
    times.update({'loop, actor+critic passes': [], 'loop, one pass': []})
    for _ in range(args.repeats):
        for i, state in enumerate(states):
            for name, method in variants.items():
                times[name].append(timed(lambda: method(model, state)))
            for name, method in scorers.items():
                keep, fill = inputs[name][i]

                def score():
                    method.score(model, state[0], keep, fill)
                # An untimed call first: each timed call follows one of
                # its own kind, not another variant's busy threads.
                score()
                times[name].append(timed(score))
            times['loop, actor+critic passes'].append(
                timed(lambda: one_mask_loop(model, state, True)))
            times['loop, one pass'].append(
                timed(lambda: one_mask_loop(model, state, False)))
    ms = {name: statistics.median(t) for name, t in times.items()}
    for name, value in ms.items():
        print('{:28s} {:8.1f} ms/frame ({} thread(s))'.format(
            name, value, args.threads), flush=True)
    return ms


def time_app(args):
    with tempfile.TemporaryDirectory() as tmp:
        agent_dir = os.path.join(tmp, 'agent')
        rollout = os.path.join(tmp, 'rollout.npz')
        with contextlib.redirect_stdout(io.StringIO()):
            assert train_a3c_gym.main(
                ['1', '--steps', '10', '--outdir', tmp, '--eval-n-runs', '0',
                 '--checkpoint-interval', '0', '--logger-level', '40']) == 0
            finish = [os.path.join(root, d) for root, dirs, _ in os.walk(tmp)
                      for d in dirs if d == '10_finish'][0]
            os.rename(finish, agent_dir)
            assert train_a3c_gym.main(
                ['1', '--demo', '--load', agent_dir, '--eval-n-runs', '1',
                 '--max-episode-len', str(args.app_frames), '--saliency',
                 'none', '--record-rollout', rollout, '--outdir', tmp,
                 '--logger-level', '40']) == 0
        fps = {1: [], 2: []}
        for i in range(args.repeats):
            for workers in (1, 2):
                fps[workers].append(app_frames_per_second(
                    rollout, os.path.join(tmp, 'app{}-{}'.format(workers, i)),
                    workers, args.app_frames))
    return {workers: statistics.median(f) for workers, f in fps.items()}


if __name__ == '__main__':
    main()
