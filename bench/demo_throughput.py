"""Demo steps/s with guided saliency and video rendering against none.

Both run the launcher's ``--demo`` in-process on PongNoFrameskip-v4 for one
episode capped at ``--steps`` agent steps, with the same weights (``--load``,
or a fresh untrained agent). Runs alternate (guided, none, guided, none, ...)
so machine noise hits both alike; the medians and their ratio are printed,
the ratio last.

    python bench/demo_throughput.py --steps 300 --repeats 3
"""
import argparse
import contextlib
import io
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

import train_a3c_gym  # noqa: E402
from alternate import alternate  # noqa: E402


def demo_rate(saliency, steps, load, video_dir):
    argv = ['1', '--env', 'PongNoFrameskip-v4', '--demo', '--eval-n-runs',
            '1', '--max-episode-len', str(steps), '--saliency', saliency,
            '--video-dir', video_dir, '--logger-level', '40']
    if load:
        argv += ['--load', load]
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        assert train_a3c_gym.main(argv) == 0
    return steps / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=300,
                        help='agent steps per demo run')
    parser.add_argument('--repeats', type=int, default=3,
                        help='runs of each mode, alternating')
    parser.add_argument('--load', default=None,
                        help='checkpoint folder (default: untrained agent)')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        medians = alternate({
            mode: (lambda i, mode=mode: demo_rate(
                mode, args.steps, args.load,
                os.path.join(tmp, '{}-{}'.format(mode, i))))
            for mode in ('guided', 'none')}, args.repeats)
    guided, none = medians['guided'], medians['none']
    print('median steps/s: guided+videos {:.1f}, none {:.1f}'.format(
        guided, none))
    print('ratio guided/none: {:.2f}'.format(guided / none))


if __name__ == '__main__':
    main()
