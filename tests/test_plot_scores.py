import imageio.v2 as imageio
import pytest

import plot_scores

HEADER = 'steps\tepisodes\telapsed\tmean\tmedian\tstdev\tmax\tmin\n'


def test_merges_runs_by_step_and_writes_a_png(tmp_path):
    first = tmp_path / 'a.txt'
    second = tmp_path / 'b.txt'
    first.write_text(HEADER + '100\t1\t1\t-21\t-21\t0\t-20\t-21\n'
                     '200\t2\t2\t-19\t-19\t1\t-18\t-20\n')
    second.write_text(HEADER + '200\t3\t3\t-18\t-18\t1\t-17\t-19\n'
                      '300\t4\t4\t-10\t-10\t2\t-8\t-12\n')
    png, merged = tmp_path / 'c.png', tmp_path / 'm.txt'
    assert plot_scores.main([str(first), str(second), '--out', str(png),
                             '--merged-scores', str(merged)]) == 0
    rows = merged.read_text().splitlines()
    assert rows[0].split('\t')[:4] == ['steps', 'episodes', 'elapsed', 'mean']
    assert [r.split('\t')[0] for r in rows[1:]] == ['100', '200', '300']
    assert rows[2].split('\t')[3] == '-18'       # the later run's row
    image = imageio.imread(png)
    assert image.shape[:2] == (400, 700)


def test_not_a_scores_file(tmp_path, capsys):
    bad = tmp_path / 'bad.txt'
    bad.write_text('hello\tworld\n1\t2\n')
    assert plot_scores.main([str(bad)]) == 2
    assert 'not a scores.txt' in capsys.readouterr().err


def test_entropy_panel_and_marks(tmp_path):
    scores = tmp_path / 'scores.txt'
    header = HEADER.rstrip('\n') + '\taverage_value\taverage_entropy\n'
    scores.write_text(header +
                      '100\t1\t1\t-21\t-21\t0\t-20\t-21\t-1.5\t1.79\n'
                      '200\t2\t2\t-19\t-19\t1\t-18\t-20\t-1.2\t1.60\n')
    png = tmp_path / 'c.png'
    assert plot_scores.main([str(scores), '--out', str(png),
                             '--mark', '150=new optimizer']) == 0
    image = imageio.imread(png)
    assert image.shape[:2] == (550, 700)     # taller: the entropy panel


def test_bad_mark(tmp_path, capsys):
    scores = tmp_path / 'scores.txt'
    scores.write_text(HEADER + '100\t1\t1\t-21\t-21\t0\t-20\t-21\n')
    assert plot_scores.main([str(scores), '--mark', 'soon=x']) == 2
    assert 'STEP=TEXT' in capsys.readouterr().err


def test_overlapping_mark_labels_are_staggered(tmp_path, monkeypatch):
    scores = tmp_path / 'scores.txt'
    scores.write_text(HEADER + '0\t1\t1\t-21\t-21\t0\t-20\t-21\n'
                      '1000\t2\t2\t-19\t-19\t1\t-18\t-20\n')
    figures = []
    monkeypatch.setattr(plot_scores.plt, 'close', figures.append)
    assert plot_scores.main([str(scores), '--out', str(tmp_path / 'c.png'),
                             '--mark', '800=resumed here', '--mark', '100=a',
                             '--mark', '830=and again', '--mark', '500=d',
                             '--mark', '860=x', '--mark', '880=once more',
                             '--mark', '950=far']) == 0
    texts = figures[0].axes[0].texts
    offsets = {t.get_text(): t.xyann for t in texts}
    # Labels right of the middle end at their line and reach to the left:
    # 'and again' would cover 'resumed here', so it goes one line lower;
    # 'x' (short) fits on the top line, between 800 and 860; 'once more'
    # covers labels on the first two lines and takes the third.
    assert offsets['a'][1] == offsets['resumed here'][1] == -3
    assert offsets['d'][1] == offsets['far'][1] == offsets['x'][1] == -3
    assert offsets['and again'][1] == -14
    assert offsets['once more'][1] == -25
    assert offsets['a'][0] == 3 and offsets['far'][0] == -3  # kept inside
    # and no two labels on the same line overlap
    renderer = figures[0].canvas.get_renderer()
    boxes = [(t.xyann[1], t.get_window_extent(renderer)) for t in texts]
    for i, (row, box) in enumerate(boxes):
        assert not any(r == row and box.overlaps(b) for r, b in boxes[:i])


def test_no_data_is_drawn_under_a_label(tmp_path, monkeypatch):
    scores = tmp_path / 'scores.txt'
    scores.write_text(HEADER + '0\t1\t1\t0\t0\t0\t0\t0\n'
                      '500\t2\t2\t90\t90\t1\t100\t80\n'
                      '1000\t3\t3\t0\t0\t0\t0\t0\n')
    figures = []
    monkeypatch.setattr(plot_scores.plt, 'close', figures.append)
    assert plot_scores.main([str(scores), '--out', str(tmp_path / 'c.png'),
                             '--mark', '520=a label over the peak',
                             '--mark', '540=and one more']) == 0
    fig = figures[0]
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    peak = ax.transData.transform((500, 100))[1]  # the band's top at 500
    for text in ax.texts:
        assert peak < text.get_window_extent(renderer).y0
    assert ax.get_ylim()[1] > 110  # the axes grew to make the room


@pytest.mark.parametrize('text,argv,needle', [
    (HEADER + '100\t1\t1\t-21\t-21\t0\t-20\t-21\n200\t2\t2\t-2', [],
     'line 3: 4 fields, the header has 8'),
    (HEADER + '100\t1\t1\tx\t-21\t0\t-20\t-21\n', [],
     "line 2: mean is 'x', not a number"),
    (HEADER + '1e400\t1\t1\t-21\t-21\t0\t-20\t-21\n', [],
     "line 2: steps is '1e400'"),
    (HEADER + '100\t1\t1\tnan\t-21\t0\t-20\t-21\n', [],
     'line 2: mean is nan'),
    ('\x00\xff garbage', [], 'is not a scores.txt'),
    (None, [], 'no scores.txt in run folder scores.txt'),
    (HEADER + '100\t1\t1\t-21\t-21\t0\t-20\t-21\n',
     ['--out', 'curve.xyz'], "unknown image format 'xyz'"),
    (HEADER + '100\t1\t1\t-21\t-21\t0\t-20\t-21\n',
     ['--out', '.'], 'is a folder'),
    (HEADER + '100\t1\t1\t-21\t-21\t0\t-20\t-21\n',
     ['--out', 'scores.txt/x.png'], 'cannot write to --out'),
])
def test_bad_files_and_outputs(tmp_path, capsys, monkeypatch, text, argv,
                               needle):
    monkeypatch.chdir(tmp_path)
    if text is not None:
        (tmp_path / 'scores.txt').write_text(text)
    else:
        (tmp_path / 'scores.txt').mkdir()
    assert plot_scores.main(['scores.txt'] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not list(tmp_path.glob('*.png')) and not list(
        tmp_path.glob('.*part*'))


def test_a_run_folder_and_the_default_output_beside_it(
        tmp_path, capsys, monkeypatch):
    """plot_scores.py RUN: the run folder's scores.txt; the curve goes
    beside it, not into the current folder."""
    monkeypatch.chdir(tmp_path)
    run = tmp_path / 'results' / 'run1'
    run.mkdir(parents=True)
    (run / 'scores.txt').write_text(
        HEADER + '100\t1\t1\t-21\t-21\t0\t-20\t-21\n'
        '200\t2\t2\t-5\t-5\t0\t-4\t-6\n')
    assert plot_scores.main([str(run)]) == 0
    assert (run / 'learning_curve.png').is_file()
    assert not list(tmp_path.glob('*.png'))
    assert str(run / 'learning_curve.png') in capsys.readouterr().out
