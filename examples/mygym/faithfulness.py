"""Faithfulness report: does each saliency method's map mean anything?

::

    python examples/mygym/faithfulness.py \\
        --load examples/mygym/pretrained/pong \\
        --env PongNoFrameskip-v4 --frames 100 \\
        --methods guided,gradient,greydanus,occlusion,rise --out R

plays the agent (or reads ``--rollout``), takes ``--frames`` of its inputs
(every ``--stride``-th step) and, for every method, the actor's and the
critic's maps of each, then measures (:mod:`evaluation.study`, with the
measures of :mod:`evaluation.metrics`; written by :mod:`evaluation.report`):

1. model randomisation, cascading from the output heads down to the first
   layer: Spearman rank correlation (and SSIM) of the trained model's maps
   with the randomised model's, beside the correlation between maps of
   different frames of the trained model, the level a map that ignores the
   weights could not beat;
2. deletion and insertion of the most salient pixels into a blurred copy
   of the input, against random pixel orderings;
3. pointing at the game's objects (positions from the emulator's RAM);
4. with ``--interventions``: objects moved (and Breakout's bricks removed)
   in RAM while the agent plays (:mod:`evaluation.intervention_study`):
   does each map follow them, beside maps of noise, and does it mark the
   objects whose change changes the agent most.

It writes ``R/report.md`` (tables, verdicts, plots), the plots as PNG and
``R/report.json``; the README explains the figures.
"""
import os
import sys
import time

import chainerrl_compat  # noqa: F401
import chainer
import numpy as np
from chainerrl import misc
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from common.cli import (SEED, OneLineParser, UsageError, add_cluster_flags,
                        add_flag, add_scoring_flags, check_device,
                        check_output_folder, finite_float, int_in,
                        method_list, prepare_output_folder, run_main)
from env_gym_chainer import UnknownGameError, check_atari_id, game_of
from evaluation import metrics as fm
from evaluation.intervention_study import (example_index, measure,
                                           play_interventions)
from evaluation.interventions import InterventionError, movable
from evaluation.cluster import ClusterError, ClusterMaps
from evaluation.cluster import from_flags as cluster_from_flags
from evaluation.report import page_html, plot_intervention, write_report
from media.page import page_data, write_page
from saliency import policy_only
from evaluation.rollout import check_fits
from evaluation.study import (MAPS, Evaluation, object_positions,
                              play_frames, rollout_frames)
from evaluation.verdicts import verdict
from agents import environment_options, load_agent
from models.networks import ARCHS, phi
from models.checkpoint import CheckpointError, read_checkpoint_info
from saliency import METHODS, make_saliency

PROG = 'faithfulness.py'
# How far --interventions moves an object, in screen pixels (x, y).
OFFSET = (8, 6)


def build_parser():
    p = OneLineParser(prog=PROG, description=(
        'Measure, per saliency method, whether its maps depend on the '
        'trained weights, find what changes the agent\'s output, and point '
        'at the game\'s objects; writes report.md, report.json and plots.'))
    add_flag(p, 'load', required=True, help='agent checkpoint folder')
    source = p.add_mutually_exclusive_group()
    source.add_argument('--rollout', help='rollout file written by '
                        'train_a3c_gym.py --demo --record-rollout')
    source.add_argument('--env', help='play this game (e.g. '
                        'PongNoFrameskip-v4) to collect the frames '
                        '(default, without --rollout: the checkpoint\'s '
                        'game)')
    p.add_argument('--frames', type=int_in(2, 100000), default=None,
                   help='frames to evaluate (required with --env; with '
                        '--rollout, default: all)')
    p.add_argument('--stride', type=int_in(1, 1000), default=4,
                   help='take every STRIDE-th step of the play or rollout '
                        '(neighbouring frames are nearly equal)')
    add_flag(p, 'methods', type=method_list(sorted(METHODS)),
             default=['guided', 'gradient', 'greydanus', 'occlusion', 'rise'],
             help='comma-separated saliency methods, from: '
                  + ', '.join(sorted(METHODS)))
    add_flag(p, 'out', default=os.path.join('results', 'faithfulness'),
             help='output folder (new or empty; see --overwrite)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace the outputs an earlier run left in --out '
                        '(as a whole: none of its files stays)')
    add_flag(p, 'seed', type=SEED, default=0,
             help='seed of the play, the randomised weights and the random '
                  'orderings')
    p.add_argument('--random-orderings', type=int_in(1, 100), default=5,
                   help='random pixel orderings averaged for the deletion '
                        'and insertion baseline')
    p.add_argument('--radius', type=finite_float(0, 100, above_minimum=True),
                   default=5.0,
                   help='input pixels around an object\'s centre that count '
                        'as on it')
    p.add_argument('--interventions', action='store_true',
                   help='also move the game\'s objects in RAM (and remove '
                        'Breakout\'s bricks) while the agent plays (--env '
                        'only) and measure whether each map follows them '
                        '(docs/methods.md)')
    add_scoring_flags(p, scoring='dense', scoring_note=(
        '. Dense here keeps the figures exactly reproducible: the rank '
        'statistics amplify rounding where maps have near-ties (auto moved '
        'sarfa\'s randomisation Spearman by up to 0.011 on 12 Pong '
        'frames; greydanus\' and occlusion\'s figures by 1.2e-4)'))
    add_cluster_flags(p)
    return p


# -------------------------------------------------------------------- main

def game_from_checkpoint(args):
    """Without ``--rollout`` or ``--env``, the game the ``--load``-ed
    checkpoint was trained on."""
    if args.rollout or args.env:
        return
    try:
        info = read_checkpoint_info(args.load) \
            if os.path.isdir(args.load) else {}
    except CheckpointError as e:
        raise UsageError(str(e))
    if not info.get('env'):
        raise UsageError('checkpoint {} names no game: give --env or '
                         '--rollout'.format(args.load))
    args.env = info['env']


def run(args):
    game_from_checkpoint(args)
    if args.env:
        try:
            check_atari_id(args.env)
        except UnknownGameError as e:
            raise UsageError(str(e))
        if args.frames is None:
            raise UsageError('--env needs --frames N')
    elif not os.path.isfile(args.rollout):
        raise UsageError('no rollout file at {}'.format(args.rollout))
    if args.interventions and not args.env:
        raise UsageError('--interventions needs --env: the objects are '
                         'moved in the running emulator')
    if args.interventions:
        try:
            movable(game_of(args.env), OFFSET)  # a game without a RAM table
        except InterventionError as e:
            raise UsageError(str(e))
    check_device(args.device)
    try:
        cluster = cluster_from_flags(args)
    except ValueError as e:
        raise UsageError(str(e))
    if cluster is None:
        return _run(args, None)
    try:
        with cluster:               # connected before any output exists
            return _run(args, cluster)
    except ClusterError as e:       # the report is written whole or not
        raise UsageError(str(e))


def _run(args, cluster):
    check_output_folder(args.out, '--out', args.overwrite)
    meta = {}
    if args.rollout:
        try:
            frames, meta = rollout_frames(args.rollout, args.frames,
                                          args.stride)
        except ValueError as e:
            raise UsageError(str(e))
    try:
        agent, info = load_agent(
            args.load, arch=meta.get('arch'), n_actions=meta.get('n_actions'),
            frame_buffer_length=meta.get('frame_buffer_length'),
            env=args.env or meta.get('env'))
    except CheckpointError as e:
        raise UsageError(str(e))
    env_id = args.env or meta.get('env') or info.get('env')
    try:        # built once; a method the model cannot run is refused here
        methods = {name: make_saliency(name, chunk=args.chunk,
                                       device=args.device, model=agent.model,
                                       scoring=args.scoring)
                   for name in args.methods}
    except ValueError as e:
        raise UsageError(str(e))
    misc.set_random_seed(args.seed)
    started = time.perf_counter()
    if args.env:
        print('{}: playing {} steps of {}'.format(
            PROG, args.frames * args.stride, args.env), file=sys.stderr)
        frames = play_frames(agent, info, args.env, args.frames, args.stride,
                             args.seed)
    model = agent.model
    recurrent = frames['recurrent_states']
    try:
        check_fits(frames['observations'], recurrent, model,
                   info['frame_buffer_length'], info['arch'])
    except ValueError as e:
        raise UsageError(str(e))
    states = np.stack([phi(obs) for obs in frames['observations']])
    positions = object_positions(
        env_id or '', environment_options(info)['preprocessor'],
        frames['ram'])
    arch = ARCHS[info['arch']]
    fresh = fm.fresh_model(lambda: arch.make_model(
        info['n_actions'], info['frame_buffer_length']), args.seed)
    evaluation = Evaluation(model, fresh, states, frames['actions'],
                            recurrent, positions, args)
    if cluster is not None:
        evaluation.use_cluster(ClusterMaps(cluster.client), info)
    n = len(states)
    total = n + len(args.methods) * n * (1 + len(evaluation.stages) + 2)
    bar = tqdm(total=total, desc='random baseline', unit='map',
               file=sys.stderr)
    try:
        with chainer.using_config('train', False), \
                threadpool_limits(limits=1):
            results, examples = evaluation.run(methods, bar)
    finally:
        bar.close()
    prepare_output_folder(args.out, args.overwrite)     # the first output
    interventions = shown = None
    if args.interventions:
        interventions, shown = run_interventions(agent, info, methods, args)
    seconds = time.perf_counter() - started
    report = {'checkpoint': args.load, 'env': env_id, 'frames': n,
              'stride': args.stride, 'seed': args.seed,
              'arch': info['arch'], 'radius': args.radius,
              'random_orderings': args.random_orderings,
              'stages': evaluation.stages, 'seconds': seconds,
              'methods': results}
    verdicts = {name: {map_name: verdict(entry[map_name], evaluation.stages,
                                         n)
                       for map_name in MAPS}
                for name, entry in results.items()}
    for name in results:
        results[name]['verdict'] = verdicts[name]
    if interventions is not None:
        report['interventions'] = interventions
    path = write_report(args.out, report, evaluation.stages, verdicts,
                        evaluation.curves, examples, states, seconds)
    page = write_page(os.path.join(args.out, 'report.html'), report_page(
        report, evaluation.stages, verdicts, examples, states, frames,
        model, shown))
    print('{} frames, {} methods in {:.0f} s: {}'.format(
        n, len(results), seconds, path))
    print('to browse (open in a browser): {}'.format(page))
    return 0


def report_page(report, stages, verdicts, examples, states, frames, model,
                interventions):
    """The report's page (:mod:`media.page`): every frame with each
    method's maps, the randomised networks' beside them (the stage
    slider), the agent's policy and value, and the verdicts, terms and
    interventions (:func:`evaluation.report.page_html`)."""
    recurrent = frames['recurrent_states']
    probs, values = [], []
    with chainer.using_config('train', False):
        for i, state in enumerate(states):
            result = policy_only(model, state[None], None if recurrent is None
                                 else recurrent[i])
            probs.append(result.action_probs)
            values.append(result.value)
    methods = {name: (trained[0], trained[1],
                      [(actor, critic) for actor, critic in randomised])
               for name, (trained, randomised) in examples.items()}
    data = page_data(
        'Faithfulness report: {} on {}'.format(report['checkpoint'],
                                               report['env']),
        np.rint(states[:, -1] * 255).astype(np.uint8), methods,
        unit='frame',
        subtitle=('{} frames, every {}th step; the network input (newest '
                  'frame); the stage slider shows the maps of the networks '
                  'randomised layer by layer').format(report['frames'],
                                                      report['stride']),
        values=values, probs=np.stack(probs), actions=frames['actions'],
        zoom=4, stages=stages,
        report_html=page_html(report, verdicts, interventions))
    return data


def run_interventions(agent, info, methods, args):
    """The report's ``interventions`` section: every ``--stride``-th step
    of ``--frames`` an object moved by :data:`OFFSET`, the maps of each of
    ``methods`` (name -> method) measured."""
    records, by_object = play_interventions(
        agent, info, args.env, args.frames * args.stride, args.stride,
        args.seed, OFFSET)
    counts = {key: sum(c[key] for c in by_object.values())
              for key in ('kept', 'not_honoured', 'refused')}
    section = {'offset': list(OFFSET), 'counts': counts,
               'counts_by_object': by_object}
    rng = np.random.RandomState(args.seed + 2)
    bar = tqdm(total=len(records) * len(args.methods), unit='move',
               desc='interventions', file=sys.stderr)
    all_maps, kl = {}, []
    try:
        with chainer.using_config('train', False), \
                threadpool_limits(limits=1):
            for name, method in methods.items():
                bar.set_description('interventions: ' + name)
                result = measure(method, agent.model, records, args.radius,
                                 rng, bar.update)
                section['effect'] = result.pop('effect')
                result.pop('interventions')
                all_maps[name], kl = result.pop('maps'), result.pop('kl')
                section[name] = result
    finally:
        bar.close()
    if records:
        pick = example_index(records, kl)
        section['example'] = {'index': pick,
                              'object': records[pick]['object'],
                              'removed': records[pick]['new'] is None,
                              'kl': kl[pick]}
        shown = {name: maps[pick] for name, maps in all_maps.items()}
        plot_intervention(records[pick], shown, args.radius,
                          os.path.join(args.out, 'intervention.png'))
    return section, (records, all_maps, kl)


def main(argv=None):
    """Entry point; returns the process exit status."""
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
