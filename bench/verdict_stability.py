"""How many frames a faithfulness verdict needs before it stops flipping.

Runs ``faithfulness.py`` on the shipped Pong agent at several ``--frames``
with several seeds (each seed plays another game, so other frames), and
counts, per frame count, the verdict cells (method x map x measure) whose
verdict is not the same for every seed. ``docs/methods.md`` ("How sure a
verdict is") quotes its output; ``evaluation/verdicts.MIN_FRAMES`` is
chosen from it.

    python bench/verdict_stability.py --frames 8,16,24,40 --seeds 5
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOOL = os.path.join(ROOT, 'examples', 'mygym', 'faithfulness.py')
AGENT = os.path.join(ROOT, 'examples', 'mygym', 'pretrained', 'pong')
MEASURES = ('randomization', 'deletion', 'insertion', 'pointing')


def verdict_cells(path):
    methods = json.load(open(path))['methods']
    return {(name, map_name, measure): entry['verdict'][map_name][measure]
            for name, entry in methods.items()
            for map_name in ('actor', 'critic') for measure in MEASURES
            if entry['verdict'][map_name][measure] is not None}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--frames', default='8,16,24,40')
    p.add_argument('--seeds', type=int, default=5)
    p.add_argument('--methods', default='guided,gradient,greydanus')
    args = p.parse_args()
    print('frames | flipping verdict cells (of all) | seeds')
    print('---|---|---')
    for n in [int(x) for x in args.frames.split(',')]:
        runs = []
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, 'r')
                subprocess.run([sys.executable, TOOL, '--load', AGENT,
                                '--frames', str(n), '--methods',
                                args.methods, '--seed', str(seed), '--out',
                                out], check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                runs.append(verdict_cells(os.path.join(out, 'report.json')))
        cells = set.intersection(*(set(r) for r in runs))
        flips = sorted(c for c in cells if len({r[c] for r in runs}) > 1)
        print('{} | {} of {} ({}) | {}'.format(
            n, len(flips), len(cells),
            ', '.join('/'.join(c) for c in flips) or '-', args.seeds),
            flush=True)


if __name__ == '__main__':
    main()
