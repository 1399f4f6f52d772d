"""Whether two runs wrote the same results: the demo's maps (``--save-maps``
``.npz``) and the faithfulness report's ``report.json``.

    python bench/same_outputs.py BEFORE_DIR AFTER_DIR

Each folder holds ``demo/episode-000-maps.npz`` and ``report/report.json``
(the commands are in ``docs/design.md``, "Checking a refactoring").
Prints every array that differs and every JSON value that differs or is
only on one side; timings (``seconds``, ``ms_per_frame``) are listed
apart, as they never repeat.
"""
import json
import os
import sys

import numpy as np

TIMINGS = ('seconds', 'ms_per_frame')


def compare_json(before, after, path=''):
    """Yield ``(kind, path)`` for each difference."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            where = path + '/' + key
            if key not in after:
                yield 'only before', where
            elif key not in before:
                yield 'only after', where
            else:
                yield from compare_json(before[key], after[key], where)
    elif before != after:
        yield ('timing' if path.rsplit('/', 1)[-1] in TIMINGS
               else 'differs'), path


def main(before, after):
    maps = [np.load(os.path.join(d, 'demo', 'episode-000-maps.npz'))
            for d in (before, after)]
    names = sorted(set(maps[0].files) | set(maps[1].files))
    same = [n for n in names if n in maps[0].files and n in maps[1].files
            and np.array_equal(maps[0][n], maps[1][n])]
    print('demo maps: {} of {} arrays identical{}'.format(
        len(same), len(names), '' if len(same) == len(names) else
        ' (differ: {})'.format(', '.join(sorted(set(names) - set(same))))))
    reports = [json.load(open(os.path.join(d, 'report', 'report.json')))
               for d in (before, after)]
    for kind, path in compare_json(*reports):
        print('report.json: {}: {}'.format(kind, path))


if __name__ == '__main__':
    main(*sys.argv[1:3])
