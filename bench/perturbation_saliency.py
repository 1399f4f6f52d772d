"""Perturbation saliency speed: batched Greydanus against a one-mask loop.

On the ICLR-ACER network with the shipped Pong agent's weights (A3CFF,
84x84x4 input, real Pong observations), the Greydanus method with r=5, d=5
(a 17x17 grid: 289 masks on 84x84), per frame:

* engine: this suite's ``GreydanusSaliency`` (actor and critic from the
  same batched forward passes of ``--chunk`` inputs, through ONNX Runtime,
  :mod:`engine`);
* numpy: the same method scored through the NumPy forward with the
  windowed first layer (``saliency.fast_forward``, chunk 32), the suite's
  path before the engine;
* one mask at a time, as the paper's code does it: one perturbed image per
  forward pass, once for the actor and once for the critic
  (2 x 289 passes). The single-pass variant of the loop (actor and critic
  from one pass per mask, 289 passes) is timed too.

Then the frame-range app's frames/s with 1 and 2 workers on a recorded
rollout. Timings are medians over ``--frames`` frames and alternating
repeats; the headline ratios (paper's loop / engine, numpy / engine) are
printed last.

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
import train_a3c_gym  # noqa: E402
from env_gym_chainer import GymEnvironment  # noqa: E402
import engine  # noqa: E402
from saliency import GreydanusSaliency  # noqa: E402
from saliency.fast_forward import fast_forward_for  # noqa: E402
from saliency.perturbation import blob_masks  # noqa: E402

SHIPPED = os.path.join(HERE, '..', 'examples', 'mygym', 'pretrained', 'pong')


class NumpyGreydanus(GreydanusSaliency):
    """The Greydanus method scored through the NumPy forward (windowed
    first layer), as the suite did before :mod:`engine`."""

    def score(self, model, state, keep, fill, recurrent_state=None):
        fast = fast_forward_for(model)
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
            states.append(agents.phi(obs)[None])
    env.close()
    model = agents.load_agent(SHIPPED)[0].model
    variants = {
        'engine': GreydanusSaliency(chunk=args.chunk),
        'numpy': NumpyGreydanus(chunk=32),
    }
    for method in variants.values():
        method(model, states[0])                # masks cached, warm
    times = {'engine': [], 'numpy': [], 'loop, actor+critic passes': [],
             'loop, one pass': []}
    for _ in range(args.repeats):
        for state in states:
            for name, method in variants.items():
                times[name].append(timed(lambda: method(model, state)))
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
