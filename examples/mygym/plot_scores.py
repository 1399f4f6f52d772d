"""Plot a learning curve from ChainerRL ``scores.txt`` files.

Training that runs in pieces (``--load`` resumes) leaves one ``scores.txt``
per run folder; pass them all, in any order::

    python examples/mygym/plot_scores.py results/*/scores.txt \\
        --out curve.png --merged-scores scores.txt

Rows are merged by training step (a later file wins on a repeated step); the
PNG shows the mean evaluation return against steps with the min..max range
of the evaluation episodes shaded and, below it, the policy's average entropy
(when the files have it). ``--mark STEP=TEXT`` draws a dashed line at a step,
for example where a resumed run changed its hyperparameters.
"""
import argparse
import csv
import sys

import matplotlib

matplotlib.use('Agg')  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402


def read_scores(paths):
    """Merged rows (dicts of str) of the given files, sorted by step."""
    rows, header = {}, None
    for path in paths:
        with open(path, newline='') as f:
            reader = csv.DictReader(f, delimiter='\t')
            if reader.fieldnames is None:
                continue
            missing = {'steps', 'mean', 'min', 'max'} - set(reader.fieldnames)
            if missing:
                raise ValueError('{} is not a scores.txt (no {})'.format(
                    path, ', '.join(sorted(missing))))
            header = header or reader.fieldnames
            for row in reader:
                rows[int(row['steps'])] = row
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
    near = 0.05 * max(steps[-1] - steps[0], 1)
    previous, row = None, 0
    for step, label in sorted(marks):
        for a in (ax, bottom):
            a.axvline(step, color='gray', linestyle='--', linewidth=1)
        right = step <= middle  # keep the label inside the axes
        # A label close to the one before it goes one line lower.
        row = row + 1 if previous is not None and step - previous < near \
            else 0
        previous = step
        ax.annotate(label, (step, 1), xycoords=('data', 'axes fraction'),
                    xytext=(3 if right else -3, -3 - 11 * row),
                    textcoords='offset points', va='top',
                    ha='left' if right else 'right', fontsize=8,
                    color='dimgray')
    bottom.set_xlabel('training steps (all workers)')
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('scores', nargs='+', help='scores.txt files')
    parser.add_argument('--out', default='learning_curve.png',
                        help='PNG to write')
    parser.add_argument('--title', default='A3C learning curve',
                        help='plot title')
    parser.add_argument('--merged-scores', default=None,
                        help='also write the merged rows to this file')
    parser.add_argument('--mark', type=parse_mark, action='append',
                        default=[], metavar='STEP=TEXT',
                        help='dashed line with a label at a training step '
                        '(repeatable)')
    args = parser.parse_args(argv)
    try:
        header, rows = read_scores(args.scores)
    except (OSError, ValueError) as e:
        print('plot_scores.py: error: {}'.format(e), file=sys.stderr)
        return 2
    if not rows:
        print('plot_scores.py: error: no evaluation rows in the given files',
              file=sys.stderr)
        return 2
    plot(rows, args.out, args.title, args.mark)
    if args.merged_scores:
        with open(args.merged_scores, 'w', newline='') as f:
            writer = csv.DictWriter(f, header, delimiter='\t',
                                    lineterminator='\n')
            writer.writeheader()
            writer.writerows(rows)
    print('{} evaluations, steps {}..{}: {}'.format(
        len(rows), rows[0]['steps'], rows[-1]['steps'], args.out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
