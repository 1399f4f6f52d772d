"""The faithfulness report's evaluation: frames, maps and measures.

The frames come from playing the agent (:func:`play_frames`) or from a
rollout (:func:`rollout_frames`); :class:`Evaluation` computes every
method's actor and critic maps on them, for the trained network and each
stage of the randomisation cascade, and measures them
(:mod:`evaluation.metrics`); :mod:`evaluation.verdicts` reads the measures.
:mod:`evaluation.report` writes them.
"""
import time

import chainer
import numpy as np
from threadpoolctl import threadpool_limits

from env_gym_chainer import UnknownGameError, game_of
from evaluation import episodes
from evaluation import metrics as fm
from evaluation import objects
from evaluation.rollout import load_rollout
from agents import environment_for
from saliency import policy_only
from saliency.base import maps_of

MAPS = ('actor', 'critic')
# What each curve scores: the actor's divergence from its own policy, the
# critic's distance from its own value; and the chosen action's probability.
PRIMARY = {'actor': 'kl', 'critic': 'value'}


def play_frames(agent, info, env_id, n_frames, stride, seed):
    """Play ``agent`` on ``env_id`` and keep every ``stride``-th step:
    ``{'observations', 'actions', 'ram', 'recurrent_states'}``."""
    env = environment_for(info, env_id, seed)
    agent.saliency = policy_only
    keep = episodes.StepCollector(stride)
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
    arrays, meta = load_rollout(path)    # a ValueError if damaged
    index = np.arange(0, len(arrays['actions']), stride)[:n_frames]
    if len(index) < 2:
        raise ValueError('{} has {} steps: fewer than 2 frames at --stride '
                         '{}'.format(path, len(arrays['actions']), stride))
    frames = {name: arrays[name][index] if name in arrays else None
              for name in ('observations', 'actions', 'ram',
                           'recurrent_states')}
    return frames, meta


def object_positions(env_id, preprocessor, ram):
    """Per frame ``{object: (column, row) or None}`` in the pixels of the
    network input that ``preprocessor`` makes, or None for a game without
    a RAM table."""
    try:
        game = game_of(env_id)
    except UnknownGameError:
        return None
    if game not in objects.GAMES or ram is None:
        return None
    out = []
    for row in ram:
        found = objects.objects(game, row)
        out.append({name: None if box is None else
                    objects.to_input(objects.centre(box), preprocessor)
                    for name, box in found.items()})
    return out


def compute_maps(method, model, states, recurrent_states, bar):
    """``(actor, critic)`` ``(n, H, W)`` maps of every state."""
    return maps_of(method, model, states, recurrent_states,
                   progress=bar.update)


def _curve_aucs(curves):
    """Mean AUC per curve kind and score over the orderings."""
    return {kind: {score: fm.auc(series).mean()
                   for score, series in by_score.items()}
            for kind, by_score in curves.items()}


def finite_mean(values):
    """The mean of the finite values (NaN if none)."""
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
        self._cluster = None

    def use_cluster(self, cluster_maps, info):
        """Compute the maps (of the trained network and of every stage of
        the randomisation) on a cluster (:class:`evaluation.cluster.
        ClusterMaps`); ``info``: the checkpoint's arch and sizes. The
        deletion and insertion curves stay here."""
        self._cluster = (cluster_maps, (info['arch'], info['n_actions'],
                                        info['frame_buffer_length']))

    def _maps(self, name, method, model, bar):
        if self._cluster is None:
            return compute_maps(method, model, self.states, self.recurrent,
                                bar)
        cluster_maps, network = self._cluster
        return cluster_maps.maps(model, *network, name, self.args.chunk,
                                 self.states, self.recurrent, scaled=True,
                                 progress=bar.update,
                                 scoring=self.args.scoring)

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
                device=self.args.device, scoring=self.args.scoring)
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
        """Measure every method of ``methods`` (name -> method)."""
        report, examples = {}, {}
        baseline_aucs, baseline_curves = self.random_baseline(bar)
        self.curves['random'] = {
            name: _mean_curves(baseline_curves) for name in MAPS}
        rng = np.random.RandomState(self.args.seed + 1)
        for name, method in methods.items():
            bar.set_description(name)
            start = time.perf_counter()
            trained = self._maps(name, method, self.model, bar)
            seconds = time.perf_counter() - start
            randomised = []
            for _, model in self.cascade:
                randomised.append(self._maps(name, method, model, bar))
            entry = {'ms_per_frame': 1000 * seconds / len(self.states)}
            self.curves[name] = {}
            for m, map_name in enumerate(MAPS):
                metrics = {
                    'randomization_spearman': {
                        stage: finite_mean(
                            fm.spearman_pairs(trained[m], maps[m]))
                        for stage, maps in zip(self.stages, randomised)},
                    'randomization_ssim': {
                        stage: finite_mean(fm.ssim_pairs(trained[m], maps[m]))
                        for stage, maps in zip(self.stages, randomised)},
                    'cross_frame_spearman': fm.cross_frame_spearman(
                        trained[m]),
                }
                aucs, curves = self.map_curves(trained[m], rng, bar)
                score = PRIMARY[map_name]
                for kind in ('deletion', 'insertion'):
                    metrics[kind + '_auc'] = finite_mean(
                        [a[kind][score] for a in aucs])
                    metrics[kind + '_auc_random'] = finite_mean(
                        [a[kind][score] for a in baseline_aucs])
                    if map_name == 'actor':
                        metrics[kind + '_auc_prob'] = finite_mean(
                            [a[kind]['prob'] for a in aucs])
                        metrics[kind + '_auc_prob_random'] = finite_mean(
                            [a[kind]['prob'] for a in baseline_aucs])
                self.curves[name][map_name] = _mean_curves(curves)
                if self.positions is not None:
                    metrics['pointing'] = fm.pointing(
                        trained[m], self.positions, self.args.radius)
                entry[map_name] = metrics
            report[name] = entry
            examples[name] = (trained, randomised)   # every stage
        return report, examples


def _mean_curves(per_frame):
    kinds = per_frame[0].keys()
    return {kind: {score: np.mean([c[kind][score] for c in per_frame],
                                  axis=0)
                   for score in per_frame[0][kind]}
            for kind in kinds}
