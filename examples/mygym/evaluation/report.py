"""The faithfulness report's writing: ``report.json``, ``report.md`` and
the plots, every file whole or absent (:func:`common.outputs.written_whole`).
"""
import json
import math
import os

import numpy as np

from common.outputs import written_whole
from media.render import compose
from evaluation.study import MAPS
from evaluation.verdicts import (MIN_FRAMES, TERMS, TOO_FEW_FRAMES, fmt,
                                 intervention_verdict)


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
        ax.set_title('{} {}: {}'.format(map_name, kind, labels[score]),
                     fontsize=9)
        ax.set_xlabel('% pixels {}'.format(
            'deleted' if kind == 'deletion' else 'inserted'))
        ax.set_ylabel(labels[score])
        if p == 0:
            ax.legend(fontsize=7)
    _save_figure(figure, path)


def _input_luma(state_frame):
    """A network input frame (uint8, or float in [0, 1]) as uint8
    luminance."""
    if np.asarray(state_frame).dtype == np.uint8:
        return np.asarray(state_frame)
    return np.clip(np.rint(np.asarray(state_frame) * 255), 0, 255).astype(
        np.uint8)


def _pair(frame, actor, critic):
    """The actor's and the critic's pictures over ``frame`` as every tool
    draws them (:func:`media.render.compose`, each map to its own peak)."""
    return compose(_input_luma(frame), actor, critic, float(actor.max()),
                   float(critic.max()), magnify=1)


def _show(ax, image, title=None):
    ax.imshow(image, cmap='gray' if image.ndim == 2 else None,
              interpolation='nearest')
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def plot_examples(name, states, trained, randomised, path, n=3):
    """``n`` frames: the input, then the actor's (green) and the critic's
    (red) maps of the trained and the randomised network over it."""
    picks = np.linspace(0, len(states) - 1, n).round().astype(int)
    figure = _figure(11, 2.3 * n)
    titles = ['input (newest frame)', 'actor, trained', 'actor, randomised',
              'critic, trained', 'critic, randomised']
    for row, i in enumerate(picks):
        frame = states[i][-1]
        mine = _pair(frame, trained[0][i], trained[1][i])
        theirs = _pair(frame, randomised[0][i], randomised[1][i])
        images = [frame, mine[0], theirs[0], mine[1], theirs[1]]
        for col, image in enumerate(images):
            ax = figure.add_subplot(n, 5, row * 5 + col + 1)
            _show(ax, image, titles[col] if row == 0 else None)
        figure.axes[row * 5].set_ylabel('frame {}'.format(i), fontsize=8)
    _save_figure(figure, path)


def plot_intervention(record, maps, radius, path):
    """One intervention: the newest frame before and after, and per
    method (``maps``: name -> ``{'actor': (before, after), 'critic':
    ...}``) its maps before and after over those frames (actor green,
    critic red, as every tool draws them), the object's old place circled
    in cyan and its new one in yellow."""
    names = list(maps)
    figure = _figure(11, 2.1 * len(names))
    titles = ['input before', 'input after', 'actor before', 'actor after',
              'critic before', 'critic after']
    before, after = record['obs'][-1], record['moved_obs'][-1]
    for row, name in enumerate(names):
        actor, critic = maps[name]['actor'], maps[name]['critic']
        first = _pair(before, actor[0], critic[0])
        second = _pair(after, actor[1], critic[1])
        images = [before, after, first[0], second[0], first[1], second[1]]
        for col, image in enumerate(images):
            ax = figure.add_subplot(len(names), 6, row * 6 + col + 1)
            for centre, colour in ((record['old'], 'cyan'),
                                   (record['new'], 'yellow')):
                if centre is not None:
                    ax.add_patch(_circle(centre, radius, colour))
            _show(ax, image, titles[col] if row == 0 else None)
        figure.axes[row * 6].set_ylabel(name, fontsize=8)
    _save_figure(figure, path)


def _circle(centre, radius, colour):
    from matplotlib.patches import Circle
    return Circle(centre, radius, fill=False, edgecolor=colour,
                  linewidth=0.8)


VERDICT_COLUMNS = ['method', 'map', 'randomisation check',
                   'points at objects', 'deletion beats random',
                   'insertion beats random']


def verdict_rows(report, verdicts):
    """The verdict table's rows (cells as text, :data:`VERDICT_COLUMNS`):
    pass or fail, or "too few frames" where the sample is too small to
    call; report.md and report.html both show them."""
    rows = []
    for name in report['methods']:
        for map_name in MAPS:
            v = verdicts[name][map_name]

            def say(flag, yes, no):
                return _yes(flag, yes, no) if v['called'] or flag is None \
                    else TOO_FEW_FRAMES
            rows.append([name, map_name,
                         say(v['randomization'], 'passes', 'fails'),
                         say(v['pointing'], 'yes', 'no'),
                         say(v['deletion'], 'yes', 'no'),
                         say(v['insertion'], 'yes', 'no')])
    return rows


def sample_words(report, verdicts, markdown=True):
    """'' when every verdict is called, else the words saying why none
    is."""
    if all(v[m]['called'] for v in verdicts.values() for m in MAPS):
        return ''
    if markdown:
        return (' - {}: at least {} are needed to call a verdict, so none '
                'is called'.format(TOO_FEW_FRAMES, MIN_FRAMES))
    return ': {}, at least {} are needed to call a verdict'.format(
        TOO_FEW_FRAMES, MIN_FRAMES)


def markdown(report, stages, verdicts, seconds):
    lines = ['# Faithfulness report', '',
             '{} on {}: {} frames (every {}th step), seed {}; {:.0f} s.'
             .format(report['checkpoint'], report['env'], report['frames'],
                     report['stride'], report['seed'], seconds), '']
    lines += ['## Verdicts', '',
              'On {} frames{}. Each term is defined under "Terms" at the '
              'end; how the verdicts and their sample sizes were chosen: '
              '`docs/methods.md`.'.format(report['frames'],
                                          sample_words(report, verdicts)),
              '', '| ' + ' | '.join(VERDICT_COLUMNS) + ' |',
              '|---' * len(VERDICT_COLUMNS) + '|']
    lines += ['| ' + ' | '.join(row) + ' |'
              for row in verdict_rows(report, verdicts)]
    lines.append('')
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
                    fmt(m['randomization_spearman'][s]) for s in stages),
                fmt(m['cross_frame_spearman'])))
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
                [fmt(m[k], 3) for k in ('deletion_auc', 'deletion_auc_random',
                                        'insertion_auc',
                                        'insertion_auc_random')]
                + ([fmt(m[k], 3) for k in prob] if prob else [''] * 4))))
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
                    cells += [fmt(p[o]['mass_ratio']), '{} ({})'.format(
                        fmt(p[o]['hit_rate']), fmt(p[o]['chance_hit_rate']))]
                cells.append('{} ({})'.format(fmt(p['any']['hit_rate']),
                                              fmt(p['chance_hit_rate'])))
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
        lines.append('| {} | {} |'.format(name, fmt(entry['ms_per_frame'], 1)))
    lines += ['', '## Example frames', '',
              'The trained network\'s maps beside those of the network with '
              'every layer re-initialised.', '']
    for name in report['methods']:
        lines += ['### {}'.format(name), '',
                  '![{0}](examples-{0}.png)'.format(name), '']
    if 'interventions' in report:
        lines += interventions_markdown(report['interventions'])
    lines += ['## Terms', '']
    lines += ['- **{}**: {}.'.format(term, text)
              for term, text in TERMS.items()]
    return '\n'.join(lines) + '\n'


def interventions_markdown(section):
    """The report's lines on the interventions (``--interventions``):
    ``section`` has ``offset``, ``counts``, ``effect`` and one entry per
    method."""
    counts, effect = section['counts'], section['effect']
    lines = ['## Interventions', '',
             'Objects moved by ({}, {}) screen pixels in RAM (in Breakout '
             'also the brick the ball meets next removed): {} kept, {} '
             'not drawn as asked, {} refused (off the screen). Their '
             'effect on the agent: KL {}, most probable action changed in '
             '{} of them, value change {}.'.format(
                 *section['offset'], counts['kept'], counts['not_honoured'],
                 counts['refused'], fmt(effect['kl'], 3),
                 fmt(effect['action_changed']),
                 fmt(effect['value_change'], 3)),
             '',
             '| method | map | follow (random) | peak follows (random) | '
             'vanish (random) | agreement |', '|---|---|---|---|---|---|']
    names = [n for n in section if n not in (
        'offset', 'counts', 'counts_by_object', 'effect', 'example')]
    for name in names:
        for map_name in MAPS:
            m = section[name][map_name]
            lines.append('| {} | {} | {} ({}) | {} ({}) | {} ({}) | {} '
                         '|'.format(name, map_name, fmt(m['follow']),
                                    fmt(m['follow_random']),
                                    fmt(m['peak_follow']),
                                    fmt(m['peak_follow_random']),
                                    fmt(m['vanish']), fmt(m['vanish_random']),
                                    fmt(m['agreement'])))
    lines += ['', 'Per object (kept / not drawn as asked / refused; mean '
              'KL, action changed, value change):', '']
    by_effect = section['effect'].get('by_object', {})
    for obj, c in section.get('counts_by_object', {}).items():
        e = by_effect.get(obj)
        lines.append('- {}: {} / {} / {}{}'.format(
            obj, c['kept'], c['not_honoured'], c['refused'],
            '; KL {}, {}, {}'.format(fmt(e['kl'], 3), fmt(e['action_changed']),
                                     fmt(e['value_change'], 3)) if e else ''))
    lines += ['', 'Verdicts on {} kept interventions ("clearly above '
              'random", "agreement": see Terms):'.format(counts['kept']), '']
    lines += ['- **{}**: {}'.format(
        name, intervention_verdict(section[name], counts['kept']))
        for name in names]
    if 'example' in section:
        example = section['example']
        lines += ['', 'The intervention that changed the policy most, of '
                  'all {} kept (a {} {}, KL {}): the object\'s old place in '
                  'cyan{}.'.format(
                      counts['kept'], example['object'],
                      'removal' if example.get('removed') else 'move',
                      fmt(example['kl'], 3),
                      '' if example.get('removed') else
                      ', its new one in yellow'), '',
                  '![one intervention](intervention.png)']
    return lines + ['']


def write_report(out, report, stages, verdicts, curves, examples, states,
                 seconds):
    """Write the plots, ``report.json`` and ``report.md`` into ``out``;
    returns the path of ``report.md``."""
    methods = report['methods']
    plot_randomization(methods, stages,
                       os.path.join(out, 'randomization.png'))
    plot_curves(curves, list(methods), os.path.join(out, 'curves.png'))
    for name, (trained, randomised) in examples.items():
        plot_examples(name, states, trained, randomised[-1],
                      os.path.join(out, 'examples-{}.png'.format(name)))
    with written_whole(os.path.join(out, 'report.json')) as tmp:
        with open(tmp, 'w') as f:
            json.dump(_json_ready(report), f, indent=1)
    path = os.path.join(out, 'report.md')
    with written_whole(path) as tmp:
        with open(tmp, 'w') as f:
            f.write(markdown(report, stages, verdicts, seconds))
    return path


# ------------------------------------------------------------- the page

def _png_uri(picture):
    import base64
    import io
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format='PNG', optimize=True)
    return 'data:image/png;base64,' + base64.b64encode(
        buffer.getvalue()).decode('ascii')


def _intervention_strip(record, maps):
    """Before and after, then the actor's and the critic's maps before and
    after over them (green, red), 4 times magnified, as one picture."""
    before, after = record['obs'][-1], record['moved_obs'][-1]
    first = _pair(before, maps['actor'][0], maps['critic'][0])
    second = _pair(after, maps['actor'][1], maps['critic'][1])
    grey = [np.repeat(_input_luma(f)[..., None], 3, axis=2)
            for f in (before, after)]
    gap = np.full((before.shape[0], 2, 3), 255, np.uint8)
    row = []
    for picture in grey + [first[0], second[0], first[1], second[1]]:
        row += [picture, gap]
    row = np.concatenate(row[:-1], axis=1)
    return np.repeat(np.repeat(row, 3, axis=0), 3, axis=1)


def page_html(report, verdicts, interventions=None, limit=40):
    """The report page's own section: the verdict table, each term's
    definition a click away, and the interventions as before/after with
    both maps (``interventions``: ``(records, maps, kl)`` of the run, at
    most ``limit`` shown)."""
    from html import escape
    out = ['<h2>Verdicts</h2>',
           '<p>On {} frames{} (<a href="report.md">report.md</a> has the '
           'tables and plots).</p>'.format(
               report['frames'], sample_words(report, verdicts, False)),
           '<table><tr>' + ''.join('<th>{}</th>'.format(escape(c))
                                   for c in VERDICT_COLUMNS) + '</tr>']
    out += ['<tr>' + ''.join('<td>{}</td>'.format(escape(c)) for c in row)
            + '</tr>' for row in verdict_rows(report, verdicts)]
    out.append('</table><h2>Terms</h2>')
    out += ['<details><summary>{}</summary>{}.</details>'.format(
        escape(term), escape(text)) for term, text in TERMS.items()]
    if interventions:
        records, maps, kl = interventions
        out.append('<h2>Interventions</h2><p>{} kept; the first {} shown: '
                   'before, after, actor before, actor after, critic '
                   'before, critic after.</p><p>'.format(
                       len(records), min(limit, len(records))))
        # A link to each: the interventions' own bookmarks.
        out.append(' '.join('<a href="#iv-{0}">{0}: {1}</a>'.format(
            i, escape(r['object'])) for i, r in enumerate(records[:limit])))
        out.append('</p>')
        for i, record in enumerate(records[:limit]):
            kind = 'removal' if record['new'] is None else 'move'
            out.append('<div class="iv" id="iv-{}"><p>{} {} {}, KL {}</p>'
                       .format(i, i, escape(record['object']), kind,
                               fmt(kl[i], 3)))
            for name, by_record in maps.items():
                out.append('<div>{}<br><img alt="{} {}" src="{}"></div>'
                           .format(escape(name), escape(name), i,
                                   _png_uri(_intervention_strip(
                                       record, by_record[i]))))
            out.append('</div>')
    return '\n'.join(out)
