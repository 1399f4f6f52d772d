"""Plot a learning curve from ChainerRL ``scores.txt`` files.

Training that runs in pieces (``--load`` resumes) leaves one ``scores.txt``
per run folder; pass them all, in any order::

    python examples/mygym/plot_scores.py results/*/scores.txt \\
        --out curve.png --merged-scores scores.txt

Rows are merged by training step (a later file wins on a repeated step); the
PNG shows the mean evaluation return against steps with the min..max range
of the evaluation episodes shaded and, below it, the policy's average entropy
(when the files have it). ``--mark STEP=TEXT`` draws a dashed line at a step,
for example where a resumed run changed its hyperparameters; a label that
would cover another goes a line lower, and the plot grows upwards so that no
data is drawn under a label.
"""
import argparse
import csv
import math
import os
import sys

import matplotlib

matplotlib.use('Agg')  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from common.cli import (  # noqa: E402
    OneLineParser, UsageError, check_output_file, run_main)
from common.outputs import written_whole  # noqa: E402


def _number(row, key, path, line, kind=float):
    try:
        value = kind(row[key])
    except (TypeError, ValueError):
        raise UsageError('{} line {}: {} is {!r}, not a number (a garbled '
                         'or half-written file?)'.format(path, line, key,
                                                         row.get(key)))
    if kind is float and not math.isfinite(value):
        raise UsageError('{} line {}: {} is {}'.format(path, line, key,
                                                       value))
    return value


def read_scores(paths):
    """Merged rows (dicts of str) of the given files, sorted by step.

    Raises:
        UsageError: an unreadable file, or one that is not a complete
            ``scores.txt`` (a missing column, a garbled or torn row).
    """
    rows, header = {}, None
    for path in paths:
        try:
            with open(path, newline='') as f:
                reader = csv.DictReader(f, delimiter='\t')
                if reader.fieldnames is None:
                    continue
                missing = {'steps', 'mean', 'min', 'max'} - set(
                    reader.fieldnames)
                if missing:
                    raise UsageError('{} is not a scores.txt (no {})'.format(
                        path, ', '.join(sorted(missing))))
                header = header or reader.fieldnames
                for line, row in enumerate(reader, start=2):
                    if None in row or None in row.values():
                        raise UsageError('{} line {}: {} fields, the header '
                                         'has {} (a garbled or half-written '
                                         'file?)'.format(
                                             path, line, len(row) - 1
                                             if None in row else
                                             sum(v is not None
                                                 for v in row.values()),
                                             len(reader.fieldnames)))
                    for key in ('mean', 'min', 'max'):
                        _number(row, key, path, line)
                    if row.get('average_entropy') not in (None, ''):
                        _number(row, 'average_entropy', path, line)
                    rows[_number(row, 'steps', path, line, int)] = row
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise UsageError('cannot read {}: {}'.format(
                path, getattr(e, 'strerror', None) or e))
    return header, [rows[step] for step in sorted(rows)]


def parse_mark(text):
    """``'STEP=TEXT'`` -> ``(STEP, TEXT)``; argparse type."""
    step, sep, label = text.partition('=')
    try:
        if not sep:
            raise ValueError
        return int(step), label
    except ValueError:
        raise argparse.ArgumentTypeError(
            'expected STEP=TEXT with an integer STEP, got {!r}'.format(text))


def _clear_labels(ax, boxes, steps, high):
    """Raise the top of ``ax`` so that no data is drawn under a label."""
    bottom, top = ax.get_ylim()
    frame = ax.get_window_extent()
    to_data = ax.transData.inverted()
    needed = top
    for box in boxes:
        left = to_data.transform((box.x0, 0))[0]
        right = to_data.transform((box.x1, 0))[0]
        under = [h for s, h in zip(steps, high) if left <= s <= right]
        # the label's lower edge as a fraction of the axes' height
        edge = (box.y0 - frame.y0) / frame.height - 0.02
        if under and edge > 0:
            needed = max(needed, bottom + (max(under) - bottom) / edge)
    ax.set_ylim(bottom, needed)


def plot(rows, out, title, marks=()):
    steps = [int(r['steps']) for r in rows]
    mean = [float(r['mean']) for r in rows]
    low = [float(r['min']) for r in rows]
    high = [float(r['max']) for r in rows]
    entropy = [r.get('average_entropy') for r in rows]
    with_entropy = all(e not in (None, '') for e in entropy)
    if with_entropy:
        fig, (ax, ax_h) = plt.subplots(
            2, 1, figsize=(7, 5.5), dpi=100, sharex=True,
            gridspec_kw={'height_ratios': (3, 1)})
    else:
        fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.fill_between(steps, low, high, alpha=0.25, label='min..max')
    ax.plot(steps, mean, marker='o', markersize=3, label='mean')
    ax.set_ylabel('evaluation return')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc='lower right')
    bottom = ax
    if with_entropy:
        ax_h.plot(steps, [float(e) for e in entropy], marker='o',
                  markersize=3, color='tab:green')
        ax_h.set_ylabel('policy entropy')
        ax_h.grid(alpha=0.3)
        bottom = ax_h
    middle = (steps[0] + steps[-1]) / 2
    bottom.set_xlabel('training steps (all workers)')
    for step, _ in marks:
        for a in (ax, bottom):
            a.axvline(step, color='gray', linestyle='--', linewidth=1)
    fig.tight_layout()  # first, so that the label extents below are final
    renderer = fig.canvas.get_renderer()
    placed = []  # (row, extent) of the labels drawn so far
    for step, label in sorted(marks):
        right = step <= middle  # keep the label inside the axes
        # Each label takes the highest line where it overlaps no other.
        row = 0
        while True:
            text = ax.annotate(
                label, (step, 1), xycoords=('data', 'axes fraction'),
                xytext=(3 if right else -3, -3 - 11 * row),
                textcoords='offset points', va='top',
                ha='left' if right else 'right', fontsize=8,
                color='dimgray')
            box = text.get_window_extent(renderer).expanded(1.05, 1.0)
            if not any(r == row and box.overlaps(b) for r, b in placed):
                placed.append((row, box))
                break
            text.remove()
            row += 1
    if placed:
        _clear_labels(ax, [b for _, b in placed], steps, high)
    try:
        with written_whole(out) as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)


def build_parser():
    parser = OneLineParser(prog='plot_scores.py',
                           description=__doc__.splitlines()[0])
    parser.add_argument('scores', nargs='+', metavar='RUN',
                        help='run folders (their scores.txt) or scores.txt '
                             'files')
    parser.add_argument('--out', default=None,
                        help='image to write (.png, .pdf, .svg, ...; '
                             'default: learning_curve.png beside the first '
                             'scores.txt)')
    parser.add_argument('--title', default='A3C learning curve',
                        help='plot title')
    parser.add_argument('--merged-scores', default=None,
                        help='also write the merged rows to this file')
    parser.add_argument('--mark', type=parse_mark, action='append',
                        default=[], metavar='STEP=TEXT',
                        help='dashed line with a label at a training step '
                        '(repeatable)')
    return parser


def scores_files(paths):
    """Each path, or the ``scores.txt`` of a run folder; a folder without
    one is refused in one line."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            path = os.path.join(path, 'scores.txt')
            if not os.path.isfile(path):
                raise UsageError('no scores.txt in run folder {}'.format(
                    os.path.dirname(path)))
        files.append(path)
    return files


def run(args):
    args.scores = scores_files(args.scores)
    if args.out is None:
        args.out = os.path.join(os.path.dirname(args.scores[0]),
                                'learning_curve.png')
    check_output_file(args.out, '--out')
    formats = FigureCanvasAgg(Figure()).get_supported_filetypes()
    ext = os.path.splitext(args.out)[1].lstrip('.').lower()
    if ext not in formats:
        raise UsageError('--out {}: unknown image format {!r}; use one of '
                         '{}'.format(args.out, ext, ', '.join(
                             sorted(formats))))
    if args.merged_scores:
        check_output_file(args.merged_scores, '--merged-scores')
    header, rows = read_scores(args.scores)
    if not rows:
        raise UsageError('no evaluation rows in the given files')
    plot(rows, args.out, args.title, args.mark)
    if args.merged_scores:
        with written_whole(args.merged_scores) as tmp:
            with open(tmp, 'w', newline='') as f:
                writer = csv.DictWriter(f, header, delimiter='\t',
                                        lineterminator='\n')
                writer.writeheader()
                writer.writerows(rows)
    print('{} evaluations, steps {}..{}: {}'.format(
        len(rows), rows[0]['steps'], rows[-1]['steps'], args.out))
    return 0


def main(argv=None):
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
