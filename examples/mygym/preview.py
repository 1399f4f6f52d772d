"""Draw steps of the actor and critic videos side by side: one step as a
PNG, or consecutive steps as an animated GIF or WebP.

A still of the shipped Pong agent::

    python examples/mygym/preview.py --out docs/preview.png

plays it with guided saliency (seeded, as the demo) and draws step
``--step`` of its two videos: the actor's map in green on the left, the
critic's in red on the right, each over the game frame's luminance and
scaled to its own maximum (``--scale frame``). With ``--frames
N`` it draws steps ``step, step + stride, ...`` (N of them) into an
animation (``.gif`` or ``.webp``) played at ``--fps``; the README's
picture is the shipped Boxing agent, drawn by the command written under
it there.
"""
import os
import sys

import chainer
import imageio.v2 as imageio
import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

import chainerrl_compat  # noqa: F401
from evaluation import episodes
from agents import environment_for, load_for_tool
from models.checkpoint import CheckpointError
from common.cli import (SCALE_HELP, SEED, OneLineParser, UsageError,
                        add_flag,
                        add_game_flags, add_picture_flags,
                        check_output_file, finite_float,
                        int_in, method_list, one_method, run_main,
                        scale_name)
from common.outputs import written_whole
from media.render import background_of, captioned_pair
from saliency import METHODS, make_saliency
from models.networks import ARCHS

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'pretrained', 'pong')


def build_parser():
    p = OneLineParser(prog='preview.py', description=(
        'Draw the actor and critic saliency videos side by side: one step '
        'as a PNG, or consecutive steps as an animated GIF or WebP.'))
    add_flag(p, 'load', default=SHIPPED,
             help='checkpoint folder (default: the shipped Pong agent)')
    add_game_flags(p, sorted(ARCHS))
    p.add_argument('--step', type=int_in(0, 10 ** 6), default=120,
                   help='agent step of the first episode to draw (the '
                        'first of an animation)')
    add_flag(p, 'methods', default=['guided'],
             type=method_list(sorted(METHODS)), metavar='METHOD',
             help='saliency method (default: guided)')
    add_flag(p, 'seed', type=SEED, default=0,
             help='seed of the game and the agent, as in the demo')
    add_flag(p, 'scale', type=scale_name, default='frame',
             help=SCALE_HELP + ' (here: over the steps drawn)')
    add_picture_flags(p)
    p.add_argument('--frames', type=int_in(1, 5000), default=1,
                   help='steps to draw; more than one makes an animation '
                        '(--out ending in .gif or .webp)')
    p.add_argument('--stride', type=int_in(1, 1000), default=1,
                   help='draw every STRIDE-th step from --step on')
    p.add_argument('--fps', type=finite_float(0.1, 100.0), default=15.0,
                   help='frames per second of an animation (15: the '
                        "game's speed at one frame a step with the "
                        "default frame skip of 4 and stride 1)")
    p.add_argument('--out', default=None,
                   help='PNG (one step), GIF or WebP (one or more) to '
                        'write (default: results/preview.png, or '
                        'results/preview.webp with --frames above 1)')
    return p


ANIMATIONS = ('.gif', '.webp')


def side_by_side(step, index, method, video_scale, background='luma',
                 peaks=None):
    """The actor's and the critic's video frames of one :class:`DemoStep`
    (agent step ``index``), each scaled to its own peak (or to ``peaks``,
    the actor's and the critic's), captioned as the demo's, with a white
    gap between them."""
    result = step.result
    if peaks is None:
        peaks = (float(result.actor.max()), float(result.critic.max()))
    actor, critic = captioned_pair(
        background_of(step, background), result.actor, result.critic,
        *peaks, method, index, video_scale)
    gap = np.full((actor.shape[0], 8, 3), 255, dtype=np.uint8)
    return np.concatenate([actor, gap, critic], axis=1)


def write_animation(path, pictures, fps):
    """``pictures`` (RGB uint8, any iterable: each is converted as it
    comes) as a looping GIF or WebP at ``path``."""
    if path.lower().endswith('.gif'):
        # Pillow's default palette (median cut) merges the few brightest
        # map pixels into the luminance greys; maximum coverage keeps them.
        images = [Image.fromarray(picture).quantize(
            256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
            for picture in pictures]
        # GIF counts in hundredths of a second (15 fps: 70 ms a frame).
        options = dict(format='GIF', optimize=True, disposal=1,
                       duration=10 * max(1, round(100.0 / fps)))
    else:
        images = [Image.fromarray(picture) for picture in pictures]
        options = dict(format='WEBP', quality=80, method=4,
                       duration=max(1, round(1000.0 / fps)))
    images[0].save(path, save_all=True, append_images=images[1:], loop=0,
                   **options)


def run(args):
    if args.out is None:
        args.out = os.path.join('results', 'preview.png' if args.frames == 1
                                else 'preview.webp')
        os.makedirs('results', exist_ok=True)
    check_output_file(args.out, '--out')
    animated = os.path.splitext(args.out)[1].lower() in ANIMATIONS
    if args.frames > 1 and not animated:
        raise UsageError('--frames {} needs --out ending in .gif or .webp, '
                         'got {}'.format(args.frames, args.out))
    method = one_method(args.methods)
    try:
        agent, info = load_for_tool(args.load, args.env, args.arch)
    except CheckpointError as e:
        raise UsageError(str(e))
    agent.saliency = make_saliency(method)
    env = environment_for(info, seed=args.seed)
    np.random.seed(args.seed)
    last = args.step + (args.frames - 1) * args.stride
    keep = episodes.StepCollector(stride=args.stride, start=args.step,
                                  limit=args.frames)
    with chainer.using_config('train', False), threadpool_limits(limits=1):
        episodes.play_episodes(env, agent, 1, max_episode_len=last + 1,
                               observers=[keep])
    env.close()
    if len(keep.steps) < args.frames:
        raise UsageError('the episode ended before step {}'.format(last))
    # Drawn one at a time as they are written: only the encoded frames
    # stay in memory.
    peaks = None
    if args.scale == 'episode':     # the peak over the steps drawn
        peaks = tuple(max(float(getattr(s.result, name).max())
                          for s in keep.steps) for name in ('actor', 'critic'))
    pictures = (side_by_side(step, args.step + k * args.stride, method,
                             args.video_scale, args.background, peaks)
                for k, step in enumerate(keep.steps))
    with written_whole(args.out) as tmp:
        if animated:
            write_animation(tmp, pictures, args.fps)
        else:
            imageio.imwrite(tmp, next(pictures))
    what = ('step {}'.format(args.step) if args.frames == 1 else
            'steps {}..{} (every {})'.format(args.step, last, args.stride))
    print('{} of {} ({} saliency, actor left, critic right): {}'.format(
        what, info['env'], method, args.out))
    return 0


def main(argv=None):
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
