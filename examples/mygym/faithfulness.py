"""Faithfulness report: does each saliency method's map mean anything?

::

    python examples/mygym/faithfulness.py \\
        --load examples/mygym/pretrained/pong \\
        --env PongNoFrameskip-v4 --frames 100 \\
        --methods guided,gradient,greydanus,occlusion,rise --out R

plays the agent (or reads ``--rollout``), takes ``--frames`` of its inputs
(every ``--stride``-th step) and, for every method, the actor's and the
critic's maps of each, then measures (:mod:`faithfulness_metrics`):

1. model randomisation, cascading from the output heads down to the first
   layer: Spearman rank correlation (and SSIM) of the trained model's maps
   with the randomised model's, beside the correlation between maps of
   different frames of the trained model, the level a map that ignores the
   weights could not beat;
2. deletion and insertion of the most salient pixels into a blurred copy
   of the input, against random pixel orderings;
3. pointing at the game's objects (positions from the emulator's RAM).

It writes ``R/report.md`` (tables, verdicts, plots), the plots as PNG and
``R/report.json``; the README explains the figures.
"""
import argparse
import json
import math
import os
import sys
import time

import chainer
import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import chainerrl_compat  # noqa: F401
from evaluation import episodes
from evaluation import metrics as fm
from evaluation import objects
from models.agents import ARCHS, load_agent, phi
from models.checkpoint import CheckpointError
from chainerrl import misc
from common.cli import (SEED, OneLineParser, UsageError, add_scoring_flags,
                        check_device, check_writable_folder, finite_float,
                        int_in, run_main)
from env_gym_chainer import GymEnvironment, UnknownGameError, check_atari_id
from env_gym_chainer import game_of
from common.outputs import written_whole
from evaluation.rollout import load_rollout
from saliency import METHODS, make_saliency, policy_only

PROG = 'faithfulness.py'
MAPS = ('actor', 'critic')
# What each curve scores: the actor's divergence from its own policy, the
# critic's distance from its own value; and the chosen action's probability.
PRIMARY = {'actor': 'kl', 'critic': 'value'}
# A map passes the randomisation check when its correlation with the fully
# randomised network's map is below this and below its cross-frame level.
PASS_SPEARMAN = 0.5
# ... and points at objects with at least this mass ratio on one of them.
PASS_MASS_RATIO = 2.0


def method_list(text):
    names = [name.strip() for name in text.split(',') if name.strip()]
    unknown = [name for name in names if name not in METHODS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            'unknown method {}; choose from {}'.format(
                ', '.join(unknown) or '(none)', ', '.join(sorted(METHODS))))
    return list(dict.fromkeys(names))


def build_parser():
    p = OneLineParser(prog=PROG, description=(
        'Measure, per saliency method, whether its maps depend on the '
        'trained weights, find what changes the agent\'s output, and point '
        'at the game\'s objects; writes report.md, report.json and plots.'))
    p.add_argument('--load', required=True, help='agent checkpoint folder')
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument('--rollout', help='rollout file written by '
                        'train_a3c_gym.py --demo --record-rollout')
    source.add_argument('--env', help='play this game (e.g. '
                        'PongNoFrameskip-v4) to collect the frames')
    p.add_argument('--frames', type=int_in(2, 100000), default=None,
                   help='frames to evaluate (required with --env; with '
                        '--rollout, default: all)')
    p.add_argument('--stride', type=int_in(1, 1000), default=4,
                   help='take every STRIDE-th step of the play or rollout '
                        '(neighbouring frames are nearly equal)')
    p.add_argument('--methods', type=method_list,
                   default=['guided', 'gradient', 'greydanus', 'occlusion',
                            'rise'],
                   help='comma-separated saliency methods, from: '
                        + ', '.join(sorted(METHODS)))
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--seed', type=SEED, default=0,
                   help='seed of the play, the randomised weights and the '
                        'random orderings')
    p.add_argument('--random-orderings', type=int_in(1, 100), default=5,
                   help='random pixel orderings averaged for the deletion '
                        'and insertion baseline')
    p.add_argument('--radius', type=finite_float(0, 100, above_minimum=True),
                   default=5.0,
                   help='input pixels around an object\'s centre that count '
                        'as on it')
    add_scoring_flags(p)
    return p


class _Collect:
    """Demo observer that keeps every ``stride``-th step."""

    def __init__(self, stride):
        self.stride, self.count, self.steps = stride, 0, []

    def observe(self, step):
        if self.count % self.stride == 0:
            self.steps.append(step)
        self.count += 1

    def end_episode(self):
        pass


def play_frames(agent, info, env_id, n_frames, stride, seed):
    """Play ``agent`` on ``env_id`` and keep every ``stride``-th step:
    ``{'observations', 'actions', 'ram', 'recurrent_states'}``."""
    env = GymEnvironment(env_id,
                         frame_buffer_length=info['frame_buffer_length'],
                         preprocessor=ARCHS[info['arch']].make_preprocessor(),
                         seed=2 ** 31 - 1 - seed * 1000)
    agent.saliency = policy_only
    keep = _Collect(stride)
    try:
        with chainer.using_config('train', False), \
                threadpool_limits(limits=1):
            episodes.play_episodes(env, agent, n_steps=n_frames * stride,
                                   observers=[keep])
    finally:
        env.close()
    steps = keep.steps[:n_frames]
    recurrent = [s.result.recurrent_state for s in steps]
    return {'observations': np.stack([np.asarray(s.obs, np.uint8)
                                      for s in steps]),
            'actions': np.array([s.result.action for s in steps]),
            'ram': np.stack([np.asarray(s.ram, np.uint8) for s in steps]),
            'recurrent_states': (None if recurrent[0] is None
                                 else np.stack(recurrent))}


def rollout_frames(path, n_frames, stride):
    """Every ``stride``-th step of a rollout (at most ``n_frames``)."""
    try:
        arrays, meta = load_rollout(path)
    except ValueError as e:
        raise UsageError(str(e))
    index = np.arange(0, len(arrays['actions']), stride)[:n_frames]
    if len(index) < 2:
        raise UsageError('{} has {} steps: fewer than 2 frames at --stride '
                         '{}'.format(path, len(arrays['actions']), stride))
    frames = {name: arrays[name][index] if name in arrays else None
              for name in ('observations', 'actions', 'ram',
                           'recurrent_states')}
    return frames, meta


def object_positions(env_id, arch, ram):
    """Per frame ``{object: (column, row) or None}`` in the network input's
    pixels, or None for a game without a RAM table."""
    try:
        game = game_of(env_id)
    except UnknownGameError:
        return None
    if game not in objects.GAMES or ram is None:
        return None
    preprocessor = ARCHS[arch].make_preprocessor()
    out = []
    for row in ram:
        found = objects.objects(game, row)
        out.append({name: None if box is None else
                    objects.to_input(objects.centre(box), preprocessor)
                    for name, box in found.items()})
    return out


def compute_maps(method, model, states, recurrent_states, bar):
    """``(actor, critic)`` ``(n, H, W)`` maps of every state."""
    actor, critic = [], []
    for i, state in enumerate(states):
        result = method(model, state[None],
                        None if recurrent_states is None
                        else recurrent_states[i])
        actor.append(result.actor)
        critic.append(result.critic)
        bar.update()
    return np.stack(actor), np.stack(critic)


def _curve_aucs(curves):
    """Mean AUC per curve kind and score over the orderings."""
    return {kind: {score: fm.auc(series).mean()
                   for score, series in by_score.items()}
            for kind, by_score in curves.items()}


def _mean(values):
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float('nan')


class Evaluation:
    """Everything the report measures, for one model and its frames."""

    def __init__(self, model, fresh, states, actions, recurrent_states,
                 positions, args):
        self.model, self.states, self.actions = model, states, actions
        self.recurrent = recurrent_states
        self.positions = positions
        self.args = args
        self.cascade = fm.randomization_cascade(model, fresh)
        self.stages = [name for name, _ in self.cascade]
        self.curves = {}        # method -> map -> kind -> score -> (steps+1)

    def _state(self, i):
        return None if self.recurrent is None else self.recurrent[i]

    def _curves(self, orders_of, bar):
        """Per frame: the AUCs and curves of the pixel orderings
        ``orders_of(i)``, each averaged over those orderings."""
        aucs, curves = [], []
        for i, state in enumerate(self.states):
            curve = fm.deletion_insertion(
                self.model, state, orders_of(i), int(self.actions[i]),
                self._state(i), chunk=self.args.chunk,
                device=self.args.device)
            aucs.append(_curve_aucs(curve))
            curves.append({k: {s: v.mean(axis=0) for s, v in c.items()}
                           for k, c in curve.items()})
            bar.update()
        return aucs, curves

    def random_baseline(self, bar):
        """Mean AUCs of random orderings (and mean curves), per frame."""
        rng = np.random.RandomState(self.args.seed)
        size = self.states[0].shape[1] * self.states[0].shape[2]
        return self._curves(lambda i: [rng.permutation(size) for _ in range(
            self.args.random_orderings)], bar)

    def map_curves(self, maps, rng, bar):
        """AUCs and curves of each frame's map's own ordering."""
        return self._curves(lambda i: [fm.salient_order(maps[i], rng)], bar)

    def run(self, methods, bar):
        report, examples = {}, {}
        baseline_aucs, baseline_curves = self.random_baseline(bar)
        self.curves['random'] = {
            name: _mean_curves(baseline_curves) for name in MAPS}
        rng = np.random.RandomState(self.args.seed + 1)
        for name in methods:
            bar.set_description(name)
            method = make_saliency(name, chunk=self.args.chunk,
                                   device=self.args.device)
            start = time.perf_counter()
            trained = compute_maps(method, self.model, self.states,
                                   self.recurrent, bar)
            seconds = time.perf_counter() - start
            randomised = []
            for _, model in self.cascade:
                randomised.append(compute_maps(method, model, self.states,
                                               self.recurrent, bar))
            entry = {'ms_per_frame': 1000 * seconds / len(self.states)}
            self.curves[name] = {}
            for m, map_name in enumerate(MAPS):
                metrics = {
                    'randomization_spearman': {
                        stage: _mean(fm.spearman_pairs(trained[m], maps[m]))
                        for stage, maps in zip(self.stages, randomised)},
                    'randomization_ssim': {
                        stage: _mean(fm.ssim_pairs(trained[m], maps[m]))
                        for stage, maps in zip(self.stages, randomised)},
                    'cross_frame_spearman': fm.cross_frame_spearman(
                        trained[m]),
                }
                aucs, curves = self.map_curves(trained[m], rng, bar)
                score = PRIMARY[map_name]
                for kind in ('deletion', 'insertion'):
                    metrics[kind + '_auc'] = _mean(
                        [a[kind][score] for a in aucs])
                    metrics[kind + '_auc_random'] = _mean(
                        [a[kind][score] for a in baseline_aucs])
                    if map_name == 'actor':
                        metrics[kind + '_auc_prob'] = _mean(
                            [a[kind]['prob'] for a in aucs])
                        metrics[kind + '_auc_prob_random'] = _mean(
                            [a[kind]['prob'] for a in baseline_aucs])
                self.curves[name][map_name] = _mean_curves(curves)
                if self.positions is not None:
                    metrics['pointing'] = fm.pointing(
                        trained[m], self.positions, self.args.radius)
                entry[map_name] = metrics
            report[name] = entry
            examples[name] = (trained, randomised[-1])
        return report, examples


def _mean_curves(per_frame):
    kinds = per_frame[0].keys()
    return {kind: {score: np.mean([c[kind][score] for c in per_frame],
                                  axis=0)
                   for score in per_frame[0][kind]}
            for kind in kinds}


# ---------------------------------------------------------------- verdicts

def verdict(metrics, stages):
    """``{'randomization': bool, 'pointing': bool or None,
    'deletion': bool, 'insertion': bool}`` of one map's metrics."""
    last = metrics['randomization_spearman'][stages[-1]]
    floor = metrics['cross_frame_spearman']
    randomization = (math.isfinite(last) and last < PASS_SPEARMAN
                     and (not math.isfinite(floor) or last < floor))
    points = None
    if 'pointing' in metrics:
        ratios = [v['mass_ratio'] for k, v in metrics['pointing'].items()
                  if isinstance(v, dict) and 'mass_ratio' in v]
        points = any(r >= PASS_MASS_RATIO for r in ratios
                     if math.isfinite(r))
    return {'randomization': bool(randomization), 'pointing': points,
            # Deletion: the output moves further from the original when the
            # salient pixels go first; insertion: it comes back sooner.
            'deletion': bool(metrics['deletion_auc']
                             > metrics['deletion_auc_random']),
            'insertion': bool(metrics['insertion_auc']
                              < metrics['insertion_auc_random'])}


# ------------------------------------------------------------------ output

def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _f(value, digits=2):
    if value is None or not math.isfinite(value):
        return 'n/a'
    return '{:.{}f}'.format(value, digits)


def _yes(flag, yes, no):
    return 'n/a' if flag is None else (yes if flag else no)


def _figure(*size):
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib.figure import Figure
    return Figure(figsize=size, dpi=100)


def _save_figure(figure, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(figure)
    figure.tight_layout()
    with written_whole(path) as tmp:
        figure.savefig(tmp, format='png')


def plot_randomization(report, stages, path):
    figure = _figure(10, 4)
    for m, map_name in enumerate(MAPS):
        ax = figure.add_subplot(1, 2, m + 1)
        for k, (name, entry) in enumerate(report.items()):
            metrics = entry[map_name]
            values = [metrics['randomization_spearman'][s] for s in stages]
            line, = ax.plot(range(len(stages)), values, marker='o',
                            label=name)
            ax.axhline(metrics['cross_frame_spearman'], ls='--', lw=1,
                       color=line.get_color())
        ax.set_xticks(range(len(stages)))
        ax.set_xticklabels(['+' + s if i else s
                            for i, s in enumerate(stages)])
        ax.set_ylim(-0.2, 1.05)
        ax.set_xlabel('layers re-initialised (cumulative, from the output)')
        ax.set_ylabel('Spearman, trained vs randomised map')
        ax.set_title('{} (dashed: between frames)'.format(map_name))
        ax.legend(fontsize=8)
    _save_figure(figure, path)


def plot_curves(curves, methods, path):
    figure = _figure(12, 7)
    panels = [('actor', 'deletion', 'kl'), ('actor', 'insertion', 'kl'),
              ('actor', 'deletion', 'prob'), ('actor', 'insertion', 'prob'),
              ('critic', 'deletion', 'value'),
              ('critic', 'insertion', 'value')]
    labels = {'kl': 'KL(pi_orig || pi)', 'prob': 'pi(chosen action)',
              'value': '|V - V_orig|'}
    for p, (map_name, kind, score) in enumerate(panels):
        ax = figure.add_subplot(2, 3, p + 1)
        for name in methods + ['random']:
            series = curves[name][map_name][kind][score]
            ax.plot(np.linspace(0, 100, len(series)), series,
                    ls='--' if name == 'random' else '-', label=name)
        ax.set_title('{} {}'.format(map_name, kind))
        ax.set_xlabel('% pixels {}'.format(
            'deleted' if kind == 'deletion' else 'inserted'))
        ax.set_ylabel(labels[score])
        if p == 0:
            ax.legend(fontsize=7)
    _save_figure(figure, path)


def plot_examples(name, states, trained, randomised, path, n=3):
    picks = np.linspace(0, len(states) - 1, n).round().astype(int)
    figure = _figure(11, 2.3 * n)
    titles = ['input (newest frame)', 'actor, trained', 'actor, randomised',
              'critic, trained', 'critic, randomised']
    for row, i in enumerate(picks):
        images = [states[i][-1], trained[0][i], randomised[0][i],
                  trained[1][i], randomised[1][i]]
        for col, image in enumerate(images):
            ax = figure.add_subplot(n, 5, row * 5 + col + 1)
            ax.imshow(image, cmap='gray' if col == 0 else 'magma')
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(titles[col], fontsize=8)
        figure.axes[row * 5].set_ylabel('frame {}'.format(i), fontsize=8)
    _save_figure(figure, path)


def markdown(report, stages, verdicts, seconds):
    lines = ['# Faithfulness report', '',
             '{} on {}: {} frames (every {}th step), seed {}; {:.0f} s.'
             .format(report['checkpoint'], report['env'], report['frames'],
                     report['stride'], report['seed'], seconds), '']
    lines += ['## Verdicts', '',
              '| method | map | randomisation check | points at objects | '
              'deletion beats random | insertion beats random |',
              '|---|---|---|---|---|---|']
    for name, entry in report['methods'].items():
        for map_name in MAPS:
            v = verdicts[name][map_name]
            lines.append('| {} | {} | {} | {} | {} | {} |'.format(
                name, map_name, _yes(v['randomization'], 'passes', 'fails'),
                _yes(v['pointing'], 'yes', 'no'),
                _yes(v['deletion'], 'yes', 'no'),
                _yes(v['insertion'], 'yes', 'no')))
    lines += ['', 'A map passes the randomisation check when its Spearman '
              'correlation with the map of the fully re-initialised network '
              'is below {} and below the correlation between maps of '
              'different frames of the trained network; it points at objects '
              'when its mass ratio on one of them is at least {}.'.format(
                  PASS_SPEARMAN, PASS_MASS_RATIO), '']
    lines += ['## 1. Model randomisation (cascading)', '',
              'Spearman rank correlation between the trained and the '
              'randomised network\'s maps, mean over frames; each column '
              're-initialises one more layer group, from the output down. '
              '"between frames": the same statistic between maps of '
              'different frames of the trained network. SSIM (maps scaled '
              'to their maxima) in `report.json`.', '',
              '| method | map | ' + ' | '.join(
                  ('+' if i else '') + s for i, s in enumerate(stages))
              + ' | between frames |',
              '|---|---|' + '---|' * (len(stages) + 1)]
    for name, entry in report['methods'].items():
        for map_name in MAPS:
            m = entry[map_name]
            lines.append('| {} | {} | {} | {} |'.format(
                name, map_name, ' | '.join(
                    _f(m['randomization_spearman'][s]) for s in stages),
                _f(m['cross_frame_spearman'])))
    lines += ['', '![randomisation](randomization.png)', '',
              '## 2. Deletion and insertion', '',
              'Pixels in order of saliency (ties in random order) are '
              'replaced, 5% at a time, by a blurred copy of the input '
              '(every stacked frame) - deletion - or put back into the '
              'blurred copy - insertion. Actor: KL(pi_original || pi) '
              '(and pi of the chosen action); critic: |V - V_original|. '
              'Area under the curve; "random": mean of {} random orderings. '
              'A good map has a deletion AUC above random (the output '
              'moves away sooner) and an insertion AUC below random (it '
              'comes back sooner); for pi(chosen) the reverse. The curves '
              'need not be monotonic, and a deletion score alone can '
              'reward inputs the network never saw in play (blurred '
              'patches), so read both.'.format(report['random_orderings']),
              '', '| method | map | deletion AUC | random | insertion AUC | '
              'random | deletion AUC pi(chosen) | random | insertion AUC '
              'pi(chosen) | random |', '|---|---|' + '---|' * 8]
    for name, entry in report['methods'].items():
        for map_name in MAPS:
            m = entry[map_name]
            prob = (['deletion_auc_prob', 'deletion_auc_prob_random',
                     'insertion_auc_prob', 'insertion_auc_prob_random']
                    if map_name == 'actor' else [])
            lines.append('| {} | {} | {} |'.format(name, map_name, ' | '.join(
                [_f(m[k], 3) for k in ('deletion_auc', 'deletion_auc_random',
                                       'insertion_auc',
                                       'insertion_auc_random')]
                + ([_f(m[k], 3) for k in prob] if prob else [''] * 4))))
    lines += ['', '![deletion and insertion](curves.png)', '']
    first = next(iter(report['methods'].values()))['actor']
    if 'pointing' in first:
        objects_ = [k for k, v in first['pointing'].items()
                    if isinstance(v, dict) and 'mass_ratio' in v]
        lines += ['## 3. Pointing at objects', '',
                  'Object positions from the emulator\'s RAM, mapped into '
                  'the input; "on" an object = within {} input pixels of its '
                  'centre. Mass ratio: share of the map\'s mass there over '
                  'the share of area (1 = no concentration). Hit: the map\'s '
                  'maximum lies there (chance level in brackets).'.format(
                      report['radius']), '',
                  '| method | map | ' + ' | '.join(
                      '{} mass ratio | {} hit'.format(o, o)
                      for o in objects_) + ' | any hit |',
                  '|---|---|' + '---|---|' * len(objects_) + '---|']
        for name, entry in report['methods'].items():
            for map_name in MAPS:
                p = entry[map_name]['pointing']
                cells = []
                for o in objects_:
                    cells += [_f(p[o]['mass_ratio']), '{} ({})'.format(
                        _f(p[o]['hit_rate']), _f(p[o]['chance_hit_rate']))]
                cells.append('{} ({})'.format(_f(p['any']['hit_rate']),
                                              _f(p['chance_hit_rate'])))
                lines.append('| {} | {} | {} |'.format(name, map_name,
                                                       ' | '.join(cells)))
        lines.append('')
    else:
        lines += ['## 3. Pointing at objects', '',
                  'Not measured: no RAM object table for this game or no '
                  'RAM in the rollout.', '']
    lines += ['## Speed', '', '| method | ms per frame (actor + critic) |',
              '|---|---|']
    for name, entry in report['methods'].items():
        lines.append('| {} | {} |'.format(name, _f(entry['ms_per_frame'], 1)))
    lines += ['', '## Example frames', '',
              'The trained network\'s maps beside those of the network with '
              'every layer re-initialised.', '']
    for name in report['methods']:
        lines += ['### {}'.format(name), '',
                  '![{0}](examples-{0}.png)'.format(name), '']
    return '\n'.join(lines)


# -------------------------------------------------------------------- main

def run(args):
    if args.env:
        try:
            check_atari_id(args.env)
        except UnknownGameError as e:
            raise UsageError(str(e))
        if args.frames is None:
            raise UsageError('--env needs --frames N')
    elif not os.path.isfile(args.rollout):
        raise UsageError('no rollout file at {}'.format(args.rollout))
    check_writable_folder(args.out, '--out')
    check_device(args.device)
    meta = {}
    if args.rollout:
        frames, meta = rollout_frames(args.rollout, args.frames, args.stride)
    try:
        agent, info = load_agent(
            args.load, arch=meta.get('arch'), n_actions=meta.get('n_actions'),
            frame_buffer_length=meta.get('frame_buffer_length'),
            env=args.env or meta.get('env'))
    except CheckpointError as e:
        raise UsageError(str(e))
    env_id = args.env or meta.get('env') or info.get('env')
    misc.set_random_seed(args.seed)
    started = time.perf_counter()
    if args.env:
        print('{}: playing {} steps of {}'.format(
            PROG, args.frames * args.stride, args.env), file=sys.stderr)
        frames = play_frames(agent, info, args.env, args.frames, args.stride,
                             args.seed)
    model = agent.model
    states = np.stack([phi(obs) for obs in frames['observations']])
    if states.shape[1:] != (info['frame_buffer_length'],) + states.shape[2:]:
        raise UsageError('rollout observations are {}, the network reads {} '
                         'frames'.format(states.shape[1:],
                                         info['frame_buffer_length']))
    recurrent = frames['recurrent_states']
    if (recurrent is None) != (not model.recurrent):
        raise UsageError('rollout and checkpoint disagree on a recurrent '
                         'state')
    positions = object_positions(env_id or '', info['arch'], frames['ram'])
    arch = ARCHS[info['arch']]
    fresh = fm.fresh_model(lambda: arch.make_model(
        info['n_actions'], info['frame_buffer_length']), args.seed)
    evaluation = Evaluation(model, fresh, states, frames['actions'],
                            recurrent, positions, args)
    n = len(states)
    total = n + len(args.methods) * n * (1 + len(evaluation.stages) + 2)
    bar = tqdm(total=total, desc='random baseline', unit='map',
               file=sys.stderr)
    try:
        with chainer.using_config('train', False), \
                threadpool_limits(limits=1):
            methods, examples = evaluation.run(args.methods, bar)
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    report = {'checkpoint': args.load, 'env': env_id, 'frames': n,
              'stride': args.stride, 'seed': args.seed,
              'arch': info['arch'], 'radius': args.radius,
              'random_orderings': args.random_orderings,
              'stages': evaluation.stages, 'seconds': seconds,
              'methods': methods}
    verdicts = {name: {map_name: verdict(entry[map_name], evaluation.stages)
                       for map_name in MAPS}
                for name, entry in methods.items()}
    for name in methods:
        methods[name]['verdict'] = verdicts[name]
    plot_randomization(methods, evaluation.stages,
                       os.path.join(args.out, 'randomization.png'))
    plot_curves(evaluation.curves, list(methods),
                os.path.join(args.out, 'curves.png'))
    for name, (trained, randomised) in examples.items():
        plot_examples(name, states, trained, randomised,
                      os.path.join(args.out, 'examples-{}.png'.format(name)))
    with written_whole(os.path.join(args.out, 'report.json')) as tmp:
        with open(tmp, 'w') as f:
            json.dump(_json_ready(report), f, indent=1)
    with written_whole(os.path.join(args.out, 'report.md')) as tmp:
        with open(tmp, 'w') as f:
            f.write(markdown(report, evaluation.stages, verdicts, seconds))
    print('{} frames, {} methods in {:.0f} s: {}'.format(
        n, len(methods), seconds, os.path.join(args.out, 'report.md')))
    return 0


def main(argv=None):
    """Entry point; returns the process exit status."""
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
