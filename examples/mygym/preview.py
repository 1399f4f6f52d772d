"""Draw one step of the actor and critic videos side by side, as a PNG.

The README's picture is made with::

    python examples/mygym/preview.py --out docs/preview.png

which plays the shipped Pong agent with guided saliency (seeded, as the
demo) and draws step ``--step`` of its two videos: the actor's map in
green on the left, the critic's in red on the right, each over the game
frame's luminance and scaled to its own maximum (``--saliency-scale
frame``).
"""
import os
import sys

import chainer
import imageio.v2 as imageio
import numpy as np
from threadpoolctl import threadpool_limits

import chainerrl_compat  # noqa: F401
from evaluation import episodes
from agents import environment_for, load_agent
from models.checkpoint import CheckpointError
from common.cli import (SEED, OneLineParser, UsageError, check_output_file,
                        int_in, run_main)
from common.outputs import written_whole
from media.render import compose
from saliency import METHODS, make_saliency

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'pretrained', 'pong')


def build_parser():
    p = OneLineParser(prog='preview.py', description=(
        'Write one step of the actor and critic saliency videos side by '
        'side as a PNG.'))
    p.add_argument('--load', default=SHIPPED,
                   help='checkpoint folder (default: the shipped Pong agent)')
    p.add_argument('--step', type=int_in(0, 10 ** 6), default=120,
                   help='agent step of the first episode to draw')
    p.add_argument('--saliency', default='guided', choices=sorted(METHODS),
                   help='saliency method')
    p.add_argument('--seed', type=SEED, default=0,
                   help='seed of the game and the agent, as in the demo')
    p.add_argument('--video-scale', type=int_in(1, 8), default=2,
                   help='magnification of the 160x210 game frame')
    p.add_argument('--out', default='preview.png', help='PNG to write')
    return p


def run(args):
    check_output_file(args.out, '--out')
    try:
        agent, info = load_agent(args.load)
    except CheckpointError as e:
        raise UsageError(str(e))
    if info['env'] is None:
        raise UsageError('{} names no game (no checkpoint.json)'.format(
            args.load))
    agent.saliency = make_saliency(args.saliency)
    env = environment_for(info, seed=args.seed)
    np.random.seed(args.seed)
    keep = episodes.StepCollector(start=args.step, limit=1)
    with chainer.using_config('train', False), threadpool_limits(limits=1):
        episodes.play_episodes(env, agent, 1, max_episode_len=args.step + 1,
                               observers=[keep])
    env.close()
    if not keep.steps:
        raise UsageError('the episode ended before step {}'.format(
            args.step))
    step = keep.steps[0]
    result = step.result
    actor, critic = compose(step.luma, result.actor, result.critic,
                            float(result.actor.max()),
                            float(result.critic.max()), args.video_scale)
    gap = np.full((actor.shape[0], 8, 3), 255, dtype=np.uint8)
    picture = np.concatenate([actor, gap, critic], axis=1)
    with written_whole(args.out) as tmp:
        imageio.imwrite(tmp, picture)
    print('step {} of {} ({} saliency, actor left, critic right): {}'.format(
        args.step, info['env'], args.saliency, args.out))
    return 0


def main(argv=None):
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
