"""Memory of a long guided demo: resident set size against steps played.

Runs the launcher's demo in this process on the shipped Pong agent (two
episodes capped at ``--steps / 2`` agent steps each, guided saliency, both
videos, no ``--save-maps``) and samples the process's resident set size
every 100 steps; prints the samples and the growth from step 100 to the
end, which should stay flat (nothing per step is kept).

    python bench/demo_memory.py --steps 3000
"""
import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'examples', 'mygym'))

from evaluation import episodes  # noqa: E402
import train_a3c_gym  # noqa: E402

AGENT = os.path.join(HERE, '..', 'examples', 'mygym', 'pretrained', 'pong')


def rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    raise RuntimeError('no VmRSS in /proc/self/status')


class Sampler:
    def __init__(self):
        self.steps, self.samples = 0, []

    def observe(self, step):
        self.steps += 1
        if self.steps % 100 == 0:
            self.samples.append((self.steps, rss_mb()))

    def end_episode(self):
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=3000)
    parser.add_argument('--save-maps', action='store_true')
    args = parser.parse_args(argv)
    sampler = Sampler()
    real = episodes.play_episodes

    def sampled(env, agent, n_episodes, max_episode_len=None,
                observers=(), logger=None):
        return real(env, agent, n_episodes, max_episode_len,
                    list(observers) + [sampler], logger)
    episodes.play_episodes = sampled
    with tempfile.TemporaryDirectory() as tmp:
        argv = ['1', '--demo', '--load', AGENT, '--eval-n-runs', '2',
                '--max-episode-len', str(args.steps // 2), '--video-dir',
                tmp, '--logger-level', '40']
        if args.save_maps:
            argv.append('--save-maps')
        assert train_a3c_gym.main(argv) == 0
    for steps, rss in sampler.samples:
        print('step {:5d}: {:7.1f} MB'.format(steps, rss))
    first, last = sampler.samples[0], sampler.samples[-1]
    print('growth from step {} to step {}: {:.1f} MB'.format(
        first[0], last[0], last[1] - first[1]))


if __name__ == '__main__':
    main()
