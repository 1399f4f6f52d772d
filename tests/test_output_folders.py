"""Output folders describe exactly one run: a refused run creates nothing,
a non-empty folder is refused unless --overwrite, which replaces the
earlier run's files as a whole (the demo, the app and the report)."""
import os

import faithfulness
import saliency_app
import train_a3c_gym

PONG = os.path.join(os.path.dirname(__file__), '..', 'examples', 'mygym',
                    'pretrained', 'pong')


def _one_line(capsys, rc, needle):
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and needle in err[0], err


def _earlier_run(folder):
    folder.mkdir()
    (folder / 'examples-sarfa.png').write_bytes(b'an earlier run')
    (folder / 'old').mkdir()
    (folder / 'old' / 'x.txt').write_text('x')


def test_the_report(tmp_path, capsys):
    out = tmp_path / 'report'
    # Refused after the folder check (no such checkpoint): nothing made.
    rc = faithfulness.main(['--load', str(tmp_path / 'none'), '--env',
                            'PongNoFrameskip-v4', '--frames', '2', '--out',
                            str(out)])
    _one_line(capsys, rc, 'no checkpoint folder')
    assert not out.exists()
    _earlier_run(out)
    argv = ['--load', PONG, '--frames', '2', '--methods', 'guided',
            '--random-orderings', '1', '--out', str(out)]
    _one_line(capsys, faithfulness.main(argv), 'holds files of an earlier '
              'run')
    assert (out / 'examples-sarfa.png').read_bytes() == b'an earlier run'
    assert faithfulness.main(argv + ['--overwrite']) == 0
    names = sorted(os.listdir(out))
    assert 'report.md' in names and 'examples-sarfa.png' not in names
    assert 'old' not in names


def test_the_app(tmp_path, capsys, rollout_path):
    out = tmp_path / 'app'
    _earlier_run(out)
    argv = ['--rollout', rollout_path, '--start-frame', '1', '--end-frame',
            '2', '--method', 'guided', '--out', str(out)]
    _one_line(capsys, saliency_app.main(argv), 'holds files of an earlier '
              'run')
    assert saliency_app.main(argv + ['--overwrite']) == 0
    assert sorted(os.listdir(out)) == ['actor.mp4', 'critic.mp4',
                                       'index.html', 'maps.npz']


def test_the_demo(tmp_path, capsys):
    videos = tmp_path / 'videos'
    _earlier_run(videos)
    argv = ['1', '--demo', '--load', PONG, '--eval-n-runs', '1',
            '--max-episode-len', '3', '--video-dir', str(videos)]
    _one_line(capsys, train_a3c_gym.main(argv), 'holds files of an '
              'earlier run')
    assert train_a3c_gym.main(argv + ['--overwrite']) == 0
    assert sorted(os.listdir(videos)) == ['episode-000-actor.mp4',
                                          'episode-000-critic.mp4',
                                          'episode-000.html']
    # A demo refused after the folder check (a damaged checkpoint) leaves
    # no folder behind.
    damaged = tmp_path / 'damaged'
    damaged.mkdir()
    (damaged / 'model.npz').write_bytes(b'PK not a zip')
    fresh = tmp_path / 'fresh'
    rc = train_a3c_gym.main(['1', '--demo', '--load', str(damaged),
                             '--video-dir', str(fresh)])
    _one_line(capsys, rc, 'damaged or truncated')
    assert not fresh.exists()
