"""Saliency of actor and critic for a range of frames of a recorded rollout.

The frame-range app of the XAITK-Saliency Atari example, on this suite's
agents: record a rollout with the launcher's ``--demo --record-rollout R``,
then::

    python examples/mygym/saliency_app.py --rollout R --start-frame 10 \\
        --end-frame 14 --methods greydanus --workers 2 --out D

computes the actor and critic maps of frames 10..14 (inclusive) with the
agent the rollout was recorded with (or ``--load``), and writes to ``D``
(for a recurrent agent, each frame is evaluated from the recorded state it
was seen with):

* ``actor.mp4`` and ``critic.mp4``: drawn as the demo's videos (actor
  green, critic red over the frame's luminance, or over its colours with
  ``--background colour``; a caption band with the map, the method and
  the frame's step), one video frame per rollout frame;
* ``maps.npz``: ``frames`` (the indices), ``actor`` and ``critic``
  ``(n, H, W)`` float32 raw maps (of the first of ``--methods``; the
  others' as ``actor_<method>``, ``critic_<method>``);
* ``index.html``: every method's maps to browse in a browser
  (:mod:`media.page`).

Each map is scaled by its own maximum (``--scale frame``) or by the maximum
over the range (``--scale episode``; ``range`` is taken as the same).
"""
import itertools
import multiprocessing as mp
import os
import signal
import sys

import chainerrl_compat  # noqa: F401
import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from agents import load_agent
from env_gym_chainer import game_or_id

from models.networks import phi
from kernels import engine
from models.checkpoint import CheckpointError, read_checkpoint_info
from common.cli import (SCALE_HELP, OneLineParser, UsageError, add_flag,
                        add_cluster_flags, add_picture_flags,
                        add_scoring_flags, check_device,
                        check_output_folder, finite_float, int_at_least,
                        int_in, method_list,
                        prepare_output_folder, run_main, scale_name)
from common.outputs import save_npz
from media.page import page_data, write_page
from kernels.colour import luma8
from media.render import background_of, captioned_pair
from evaluation.cluster import ClusterError, ClusterMaps
from evaluation.cluster import from_flags as cluster_from_flags
from evaluation.rollout import check_fits, load_rollout
from saliency import METHODS, make_saliency
from saliency.base import frame_maps
from media.video import Mp4Writer

PROG = 'saliency_app.py'


def build_parser():
    p = OneLineParser(prog=PROG, description=(
        'Actor and critic saliency for a range of frames of a recorded '
        'rollout, written as two videos and the raw maps.'))
    p.add_argument('--rollout', required=True,
                   help='rollout file written by train_a3c_gym.py --demo '
                        '--record-rollout')
    p.add_argument('--start-frame', type=int_at_least(0), required=True,
                   help='first frame (index into the rollout, from 0)')
    p.add_argument('--end-frame', type=int_at_least(0), required=True,
                   help='last frame, inclusive')
    add_flag(p, 'methods', default=['greydanus'],
             type=method_list(sorted(METHODS)), metavar='METHOD',
             help='saliency method (default: greydanus)')
    add_flag(p, 'workers', type=int_in(1, 64), default=1,
             help='worker processes (frames are shared out)')
    add_flag(p, 'out', default=os.path.join('results', 'saliency-app'),
             help='output folder (new or empty; see --overwrite)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace the outputs an earlier run left in --out '
                        '(as a whole: none of its files stays)')
    add_flag(p, 'load', default=None,
             help='checkpoint folder (default: the one the rollout was '
                  'recorded with)')
    add_scoring_flags(p)
    add_cluster_flags(p)
    add_flag(p, 'scale', type=scale_name, default='frame', help=SCALE_HELP)
    p.add_argument('--fps', type=finite_float(0, 240, above_minimum=True),
                   default=15,
                   help='frame rate of the videos (15: the game\'s speed at '
                        'the default frame skip of 4, as the demo\'s)')
    add_picture_flags(p)
    return p


def load_model(meta, checkpoint):
    """The rollout's network with the checkpoint's weights."""
    if not checkpoint:
        raise UsageError('the rollout names no checkpoint (recorded without '
                         '--load); pass --load')
    try:
        info = read_checkpoint_info(checkpoint)
        played, trained = meta.get('env'), info.get('env')
        if played and trained and game_or_id(played) != game_or_id(trained):
            raise UsageError(
                'the rollout plays {}, checkpoint {} was trained on {}: load '
                'the agent that recorded it{}'.format(
                    played, checkpoint, trained,
                    ' ({}, the rollout\'s own: leave --load out)'.format(
                        meta['checkpoint']) if meta.get('checkpoint')
                    else ''))
        for key in ('arch', 'n_actions', 'frame_buffer_length'):
            if key in info and key in meta and info[key] != meta[key]:
                raise UsageError(
                    'rollout from another architecture: rollout has {}={}, '
                    'checkpoint {} has {}={}'.format(
                        key, meta[key], checkpoint, key, info[key]))
        agent, _ = load_agent(
            checkpoint, arch=meta.get('arch'), n_actions=meta.get('n_actions'),
            frame_buffer_length=meta.get('frame_buffer_length'))
    except CheckpointError as e:
        raise UsageError(str(e))
    return agent.model


# Set before the worker pool forks; read by _saliency_of_frame.
_JOB = {}


def _saliency_of_frame(index):
    job = _JOB
    return (index,) + frame_maps(job['method'], job['model'],
                                 job['observations'], index,
                                 job['recurrent_states'], job['phi'])


def _init_worker():
    # Workers share the cores: one BLAS thread each. Ctrl-C is the parent's
    # to handle (it keeps the finished frames); workers just get terminated.
    threadpool_limits(limits=1)
    engine.set_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The pool ends its workers with SIGTERM: they just stop (the handler
    # inherited from the parent would print a traceback).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`compute_maps`, with the maps finished so far.

    ``frames``, ``actor``, ``critic``: the longest run of frames from the
    first one whose maps were done (possibly empty).
    """

    def __init__(self, frames, actor, critic):
        super().__init__()
        self.frames, self.actor, self.critic = frames, actor, critic


def _stack(results, frames):
    if not frames:
        return np.zeros((0, 0, 0)), np.zeros((0, 0, 0))
    return (np.stack([results[i][0] for i in frames]),
            np.stack([results[i][1] for i in frames]))


def compute_maps_on(cluster, model, meta, observations, frames, method_name,
                    chunk, recurrent_states=None, progress=True,
                    scoring='auto'):
    """:func:`compute_maps` on the Dask ``cluster``
    (:class:`evaluation.cluster.Cluster`): the same maps, in frame order."""
    bar = tqdm(total=len(frames), desc='saliency', unit='frame',
               disable=not progress, file=sys.stderr)
    done = {}           # first position in ``frames`` -> (actor, critic)
    try:
        return ClusterMaps(cluster.client).maps(
            model, meta['arch'], meta['n_actions'],
            meta['frame_buffer_length'], method_name, chunk,
            np.asarray(observations)[frames],
            None if recurrent_states is None
            else np.asarray(recurrent_states)[frames],
            progress=bar.update, done=done, scoring=scoring)
    except KeyboardInterrupt:
        # The longest run of finished chunks from the first frame.
        results, position = {}, 0
        while position in done:
            actor, critic = done[position]
            for k in range(len(actor)):
                results[frames[position + k]] = (actor[k], critic[k])
            position += len(actor)
        kept = frames[:position]
        raise Interrupted(kept, *_stack(results, kept))
    finally:
        bar.close()


def compute_maps(model, phi, observations, frames, method, workers,
                 recurrent_states=None, progress=True):
    """Maps of ``observations[frames]``: ``(actor, critic)`` (n, H, W).

    With ``recurrent_states`` (a recurrent model), frame t is evaluated from
    ``recurrent_states[t]``, the state it was seen with. Ctrl-C raises
    :class:`Interrupted` with the maps finished so far.
    """
    _JOB.update(model=model, phi=phi, observations=observations,
                method=method, recurrent_states=recurrent_states)
    results = {}
    bar = tqdm(total=len(frames), desc='saliency', unit='frame',
               disable=not progress, file=sys.stderr)
    try:
        if workers == 1:
            # One BLAS thread, as in each worker: more only pay off on idle
            # cores and collapse beside any other load.
            with threadpool_limits(limits=1):
                for index in frames:
                    i, actor, critic = _saliency_of_frame(index)
                    results[i] = (actor, critic)
                    bar.update()
        else:
            context = mp.get_context('fork')
            with context.Pool(workers, initializer=_init_worker) as pool:
                for i, actor, critic in pool.imap_unordered(
                        _saliency_of_frame, frames):
                    results[i] = (actor, critic)
                    bar.update()
    except KeyboardInterrupt:
        done = list(itertools.takewhile(results.__contains__, frames))
        raise Interrupted(done, *_stack(results, done))
    finally:
        bar.close()
        _JOB.clear()
    return _stack(results, frames)


def write_outputs(out, rgb_frames, frames, actor, critic, method, scale,
                  fps, video_scale=2, background='luma', others=None):
    """``actor.mp4`` and ``critic.mp4`` (drawn as the demo draws them,
    :mod:`media.render`: one captioned video frame per rollout frame) and
    ``maps.npz`` in ``out`` (with ``others``, ``{method: (actor,
    critic)}``, also ``actor_<method>`` and ``critic_<method>``); returns
    their paths."""
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, name + '.mp4') for name in ('actor',
                                                           'critic')]
    peaks = (float(actor.max()), float(critic.max()))
    cache = {}
    with Mp4Writer(paths[0], fps=fps, magnify=video_scale) as actor_video, \
            Mp4Writer(paths[1], fps=fps, magnify=video_scale) as critic_video:
        for index, actor_map, critic_map in zip(frames, actor, critic):
            if scale == 'frame':
                peaks = (float(actor_map.max()), float(critic_map.max()))
            pictures = captioned_pair(
                background_of(rgb_frames[index], background), actor_map,
                critic_map, *peaks, method, index, magnify=1, cache=cache)
            actor_video.append(pictures[0])
            critic_video.append(pictures[1])
    maps_path = os.path.join(out, 'maps.npz')
    extra = {}
    for name, (other_actor, other_critic) in (others or {}).items():
        extra['actor_' + name], extra['critic_' + name] = (other_actor,
                                                           other_critic)
    save_npz(maps_path, frames=np.asarray(frames), actor=actor,
             critic=critic, **extra)
    return paths + [maps_path]


def app_page(args, arrays, meta, frames, maps):
    """The browsable page of the frames computed (:mod:`media.page`)."""
    index = np.asarray(frames)
    probs = arrays.get('action_probs')
    values = arrays.get('values')
    return page_data(
        '{}: frames {}..{}'.format(meta.get('env') or 'rollout', frames[0],
                                   frames[-1]),
        luma8(arrays['frames'][index]), maps,
        labels=frames, unit='frame',
        subtitle='{} of {}; methods: {}'.format(
            os.path.basename(args.rollout), meta.get('checkpoint') or
            meta['arch'], ', '.join(maps)),
        values=None if values is None else values[index],
        probs=None if probs is None else probs[index],
        actions=arrays['actions'][index])


def run(args):
    args.method = args.methods[0]
    if args.start_frame > args.end_frame:
        raise UsageError('--start-frame {} is after --end-frame {}'.format(
            args.start_frame, args.end_frame))
    if not os.path.isfile(args.rollout):
        raise UsageError('no rollout file at {}'.format(args.rollout))
    try:
        arrays, meta = load_rollout(args.rollout)
    except ValueError as e:
        raise UsageError(str(e))
    n = len(arrays['actions'])
    if args.end_frame >= n:
        raise UsageError('frame range {}..{} is outside the rollout\'s '
                         'frames 0..{}'.format(args.start_frame,
                                               args.end_frame, n - 1))
    check_device(args.device)
    check_output_folder(args.out, '--out', args.overwrite)
    try:
        cluster = cluster_from_flags(args)
    except ValueError as e:
        raise UsageError(str(e))
    if cluster is not None and args.workers != 1:
        raise UsageError('--workers is the local pool\'s; on a cluster the '
                         'workers are its own (--cluster local:N)')
    if cluster is None:
        return _run(args, arrays, meta, None)
    try:
        with cluster:               # connected before any output exists
            return _run(args, arrays, meta, cluster)
    except ClusterError as e:       # nothing written: outputs stay absent
        raise UsageError(str(e))


def _run(args, arrays, meta, cluster):
    model = load_model(meta, args.load or meta.get('checkpoint'))
    recurrent_states = arrays.get('recurrent_states')
    try:
        check_fits(arrays['observations'], recurrent_states,
                   model, meta['frame_buffer_length'], meta['arch'])
    except ValueError as e:
        raise UsageError(str(e))
    try:
        made = {name: make_saliency(name, chunk=args.chunk,
                                    device=args.device, model=model,
                                    scoring=args.scoring)
                for name in args.methods}
    except ValueError as e:
        raise UsageError(str(e))
    frames = list(range(args.start_frame, args.end_frame + 1))
    status = 0
    maps = {}           # method -> (actor, critic), every method's frames
    for name, method in made.items():
        try:
            if cluster is not None:
                maps[name] = compute_maps_on(
                    cluster, model, meta, arrays['observations'], frames,
                    name, args.chunk, recurrent_states,
                    scoring=args.scoring)
            else:
                maps[name] = compute_maps(
                    model, phi, arrays['observations'], frames, method,
                    min(args.workers, len(frames)), recurrent_states)
        except Interrupted as stop:
            if not stop.frames and not maps:
                raise
            if stop.frames:     # else: the methods already done, whole
                frames = stop.frames
                maps[name] = (stop.actor, stop.critic)
                maps = {m: (a[:len(frames)], c[:len(frames)])
                        for m, (a, c) in maps.items()}
            print('saliency_app.py: interrupted: writing the {} frames '
                  'done of {}'.format(len(frames), ', '.join(maps)),
                  file=sys.stderr)
            status = 130
            break
    prepare_output_folder(args.out, args.overwrite)     # the first output
    actor, critic = maps[args.method]
    paths = write_outputs(args.out, arrays['frames'], frames, actor, critic,
                          args.method, args.scale, args.fps,
                          args.video_scale, args.background,
                          others={m: v for m, v in maps.items()
                                  if m != args.method})
    paths.append(write_page(os.path.join(args.out, 'index.html'),
                            app_page(args, arrays, meta, frames, maps)))
    print('{} saliency of frames {}..{}:'.format(', '.join(maps), frames[0],
                                                 frames[-1]))
    for path in paths:
        print('  ' + path)
    return status


def main(argv=None):
    """Entry point; returns the process exit status."""
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
