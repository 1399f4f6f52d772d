"""Interventions while an agent plays, and what each method's maps make of
them (the measures of :mod:`evaluation.intervention_measures`).

:func:`play_interventions` plays the agent and, every ``stride``-th step,
moves one of the game's objects (in turn) by ``offset`` pixels
(:func:`evaluation.interventions.intervene`); the game goes on unmoved.
Moves the game does not draw as asked are counted, not kept.
:func:`measure` scores a method's actor and critic maps of every kept
intervention, before and after the move, beside maps of noise.
"""
import chainer
import numpy as np

from agents import environment_for, environment_options
from env_gym_chainer import game_of
from evaluation import intervention_measures as im
from evaluation import objects
from evaluation.episodes import play_episodes
from evaluation.interventions import InterventionError, apply, targets
from evaluation.study import MAPS, finite_mean
from models.networks import phi
from models.recurrent_state import snapshot
from saliency import policy_only
from saliency.base import policy_scores


def play_interventions(agent, info, env_id, n_steps, stride, seed,
                       offset=(8, 6)):
    """Play ``n_steps`` of ``agent`` and intervene every ``stride``-th
    step. Returns ``(records, counts)``: per kept intervention ``{'obs',
    'moved_obs', 'old', 'new', 'object', 'recurrent_state'}`` (centres in
    the network input's pixels, ``new`` None for a removed brick; the
    state the agent sees both with), and per object ``{'kept',
    'not_honoured', 'refused'}``."""
    game = game_of(env_id)
    names = targets(game, offset)       # refuses a game without a table
    preprocessor = environment_options(info)['preprocessor']
    env = environment_for(info, env_id, seed)
    agent.saliency = policy_only
    agent.stop_episode()            # a recurrent agent starts afresh
    records = []
    counts = {name: {'kept': 0, 'not_honoured': 0, 'refused': 0}
              for name in names}

    def step(env, action, t):
        """Every ``stride``-th step an intervention (the game goes on
        unmoved); the others as the game plays them."""
        if t % stride or not names:
            return env.step(action)
        name = names[(t // stride) % len(names)]
        state = snapshot(agent.model)
        try:
            out = apply(env, game, name, offset, action)
        except InterventionError:
            counts[name]['refused'] += 1
            return env.step(action)
        if not out.honoured:
            counts[name]['not_honoured'] += 1
        else:
            counts[name]['kept'] += 1
            records.append({
                'obs': out.obs, 'moved_obs': out.moved_obs, 'object': name,
                'recurrent_state': state,
                'old': objects.to_input(objects.centre(out.box),
                                        preprocessor),
                'new': None if out.moved_box is None else objects.to_input(
                    objects.centre(out.moved_box), preprocessor)})
        return out.obs, out.reward, out.done, out.info

    try:
        with chainer.using_config('train', False):
            play_episodes(env, agent, n_steps=n_steps, play=step)
    finally:
        env.close()
    return records, counts


def measure(method, model, records, radius, rng, progress=None):
    """``{'actor': {...}, 'critic': {...}, 'effect': {...}, 'maps':
    [...]}`` of ``method`` over ``records``. Per map: the means of
    ``follow`` and ``peak_follow`` over the moves and of ``vanish`` over
    the removals, each beside its random-map baseline, and ``agreement``
    (marked mass ratio before the intervention against the KL divergence
    for the actor, the value's change for the critic); ``effect``: the
    means of the interventions' effects on the agent, over all and per
    object (``by_object``); ``maps``: per record the actor and critic
    maps before and after. ``progress()`` is called after each record."""
    keys = ('follow', 'peak_follow', 'vanish')
    out = {m: dict({k: [] for k in keys},
                   **{k + '_random': [] for k in keys}, marked=[])
           for m in MAPS}
    effects, maps = [], []
    for record in records:
        results = [method(model, phi(obs)[None], record['recurrent_state'])
                   for obs in (record['obs'], record['moved_obs'])]
        effects.append(im.effect(
            policy_scores(results[0].policy).array[0],
            policy_scores(results[1].policy).array[0],
            results[0].value, results[1].value))
        maps.append({m: (getattr(results[0], m), getattr(results[1], m))
                     for m in MAPS})
        old, new = record['old'], record['new']
        for m in MAPS:
            before, after = maps[-1][m]
            noise = im.random_maps(rng, 2, before.shape)
            entry = out[m]
            for suffix, (b, a) in (('', (before, after)), ('_random', noise)):
                if new is None:
                    entry['vanish' + suffix].append(
                        im.vanish(b, a, old, radius))
                    continue
                entry['follow' + suffix].append(im.follow(b, a, old, new,
                                                          radius))
                entry['peak_follow' + suffix].append(
                    im.peak_follow(b, a, old, new, radius))
            entry['marked'].append(im.mass_ratio(before, old, radius))
        if progress is not None:
            progress()
    report = {}
    for m, size in (('actor', 'kl'), ('critic', 'value_change')):
        entry = out[m]
        report[m] = {key: finite_mean(entry[key]) for key in (
            'follow', 'follow_random', 'peak_follow', 'peak_follow_random',
            'vanish', 'vanish_random')}
        report[m]['agreement'] = im.agreement(
            entry['marked'], [e[size] for e in effects])
    report['effect'] = _mean_effects(effects)
    report['effect']['by_object'] = {
        name: _mean_effects([e for e, r in zip(effects, records)
                             if r['object'] == name])
        for name in sorted({r['object'] for r in records})}
    report['interventions'] = len(records)
    report['maps'] = maps
    report['kl'] = [e['kl'] for e in effects]
    return report


def example_index(records, kl):
    """The record the report pictures: of all interventions, moves and
    removals alike, the one that changed the policy most (KL; the first
    of equals)."""
    return max(range(len(records)),
               key=lambda i: (np.nan_to_num(kl[i], nan=-1.0), -i))


def _mean_effects(effects):
    return {key: finite_mean([e[key] for e in effects])
            for key in ('kl', 'action_changed', 'value_change')}
