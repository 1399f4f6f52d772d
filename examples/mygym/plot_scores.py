"""Plot a learning curve from ChainerRL ``scores.txt`` files.

Training that runs in pieces (``--load`` resumes) leaves one ``scores.txt``
per run folder; pass them all, in any order::

    python examples/mygym/plot_scores.py results/*/scores.txt \\
        --out curve.png --merged-scores scores.txt

Rows are merged by training step (a later file wins on a repeated step); the
PNG shows the mean evaluation return against steps with the min..max range
of the evaluation episodes shaded.
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


def plot(rows, out, title):
    steps = [int(r['steps']) for r in rows]
    mean = [float(r['mean']) for r in rows]
    low = [float(r['min']) for r in rows]
    high = [float(r['max']) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.fill_between(steps, low, high, alpha=0.25, label='min..max')
    ax.plot(steps, mean, marker='o', markersize=3, label='mean')
    ax.set_xlabel('training steps (all workers)')
    ax.set_ylabel('evaluation return')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc='lower right')
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
    plot(rows, args.out, args.title)
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
