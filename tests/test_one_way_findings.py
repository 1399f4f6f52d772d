"""Each finding of the "one tool, one way" issue, run as a user runs it
(the command line quoted, in a fresh process, from a scratch folder) and
checked for the behaviour the issue asked for.

Every check here fails on c05a803, where the issue's findings were made
(run this file from a checkout of that commit to see it). Slow: each
command is a fresh process; run with ``make test-all`` or
``pytest -m slow tests/test_one_way_findings.py``.
"""
import glob
import os
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, 'examples', 'mygym')
PONG = os.path.join(TOOLS, 'pretrained', 'pong')
BREAKOUT = os.path.join(TOOLS, 'pretrained', 'breakout-lstm')
BOXING = os.path.join(TOOLS, 'pretrained', 'boxing')

pytestmark = pytest.mark.slow


def run(command, cwd, timeout=300):
    """``command`` (``tool.py args``, as typed) in a fresh process in
    ``cwd``; returns ``(status, stdout, stderr)``."""
    words = shlex.split(command)
    tool = os.path.join(TOOLS, words[0])
    env = dict(os.environ, PYTHONPATH=TOOLS, MPLBACKEND='Agg')
    done = subprocess.run([sys.executable, tool] + words[1:], cwd=cwd,
                          env=env, capture_output=True, text=True,
                          timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def one_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    return len(lines) == 1 and 'Traceback' not in err


@pytest.fixture(scope='module')
def rollout(tmp_path_factory):
    folder = tmp_path_factory.mktemp('rollout')
    status, _, err = run(
        'train_a3c_gym.py 1 --demo --load {} --eval-n-runs 1 '
        '--max-episode-len 12 --saliency none --record-rollout r.npz'
        .format(PONG), folder)
    assert status == 0, err
    return str(folder / 'r.npz')


# --------------------------------------------------- the checkpoint decides

def test_the_demo_takes_arch_and_game_from_the_checkpoint(tmp_path):
    status, out, err = run(
        'train_a3c_gym.py 1 --demo --load {} --eval-n-runs 1 '
        '--max-episode-len 5 --saliency none'.format(BREAKOUT), tmp_path)
    assert status == 0, err
    assert 'n_runs: 1' in out


def test_preview_loads_a_weights_only_model_with_env_and_arch(tmp_path):
    bare = tmp_path / 'bare'
    bare.mkdir()
    shutil.copy(os.path.join(PONG, 'model.npz'), bare / 'model.npz')
    status, _, err = run('preview.py --load bare --env PongNoFrameskip-v4 '
                         '--arch FFSoftmax --step 2 --out p.png', tmp_path)
    assert status == 0, err
    assert (tmp_path / 'p.png').is_file()


# ------------------------------------------------------ expected defaults

def test_a_demo_without_load_names_the_shipped_agents(tmp_path):
    status, _, err = run('train_a3c_gym.py 1 --demo', tmp_path)
    assert status == 2 and one_line(err)
    assert 'pretrained/pong' in err and 'pretrained/boxing' in err
    assert not (tmp_path / 'results').exists()


def test_preview_writes_under_results_not_the_current_folder(tmp_path):
    status, out, err = run('preview.py --step 2', tmp_path)
    assert status == 0, err
    assert not (tmp_path / 'preview.png').exists()
    assert (tmp_path / 'results' / 'preview.png').is_file()


def test_a_short_training_writes_its_final_row_and_best(tmp_path):
    status, _, err = run(
        'train_a3c_gym.py 1 --steps 40 --eval-n-runs 1 --max-episode-len 10 '
        '--outdir out', tmp_path)
    assert status == 0, err
    run_dir, = glob.glob(str(tmp_path / 'out' / '*'))
    rows = open(os.path.join(run_dir, 'scores.txt')).read().splitlines()
    assert len(rows) == 2                        # header and the final row
    assert os.path.isfile(os.path.join(run_dir, 'best', 'model.npz'))
    status, _, err = run('plot_scores.py {}'.format(run_dir), tmp_path)
    assert status == 0, err
    assert os.path.isfile(os.path.join(run_dir, 'learning_curve.png'))
    assert not (tmp_path / 'learning_curve.png').exists()


def test_help_shows_the_defaults(tmp_path):
    _, out, _ = run('train_a3c_gym.py --help', tmp_path)
    assert 'rollout length between updates (default: 5)' in ' '.join(
        out.split())


# --------------------------------------------- outputs describe one run

def test_a_refused_demo_creates_nothing(tmp_path):
    status, _, err = run(
        'train_a3c_gym.py 1 --demo --load {} --env BreakoutNoFrameskip-v4 '
        '--video-dir v'.format(PONG), tmp_path)
    assert status == 2 and one_line(err)
    assert not (tmp_path / 'v').exists()


def test_a_refused_app_run_creates_nothing(tmp_path, rollout):
    # Refused once the checkpoint is read: another game's agent.
    status, _, err = run(
        'saliency_app.py --rollout {} --start-frame 0 --end-frame 1 '
        '--load {} --out app'.format(rollout, BOXING), tmp_path)
    assert status == 2 and one_line(err)
    assert not (tmp_path / 'app').exists()


def test_a_rerun_report_replaces_the_earlier_one_as_a_whole(tmp_path):
    first = ('faithfulness.py --load {} --frames 3 --methods guided,sarfa '
             '--random-orderings 1 --out r'.format(PONG))
    status, _, err = run(first, tmp_path)
    assert status == 0, err
    assert (tmp_path / 'r' / 'examples-sarfa.png').is_file()
    again = first.replace('guided,sarfa', 'guided')
    status, _, err = run(again, tmp_path)
    assert status == 2 and '--overwrite' in err and one_line(err)
    status, _, err = run(again + ' --overwrite', tmp_path)
    assert status == 0, err
    assert not (tmp_path / 'r' / 'examples-sarfa.png').exists()


# ---------------------------------------------------------- one vocabulary

def test_every_tool_takes_the_same_names(tmp_path, rollout):
    status, _, err = run(
        'saliency_app.py --rollout {} --start-frame 0 --end-frame 1 '
        '--methods gradient --scale episode --out app'.format(rollout),
        tmp_path)
    assert status == 0, err
    status, _, err = run(
        'train_a3c_gym.py 1 --demo --load {} --eval-n-runs 1 '
        '--max-episode-len 3 --methods gradient --scale episode --chunk 8 '
        '--out demo'.format(PONG), tmp_path)
    assert status == 0, err
    assert (tmp_path / 'demo' / 'episode-000-actor.mp4').is_file()


def test_dead_units_takes_load_and_reports_each_checkpoint(tmp_path):
    status, out, err = run('dead_units.py --load {} --load nowhere '
                           '--frames 20'.format(PONG), tmp_path)
    assert status == 2
    assert 'conv' in out                     # the first was checked
    assert 'nowhere' in err


# ------------------------------------------------------------ one renderer

def test_the_demo_and_the_app_draw_maps_the_same_captioned_way(
        tmp_path, rollout):
    from media.video import read_mp4
    status, _, err = run(
        'train_a3c_gym.py 1 --demo --load {} --eval-n-runs 1 '
        '--max-episode-len 2 --saliency gradient --video-dir demo'
        .format(PONG), tmp_path)
    assert status == 0, err
    status, _, err = run(
        'saliency_app.py --rollout {} --start-frame 0 --end-frame 1 '
        '--method gradient --out app'.format(rollout), tmp_path)
    assert status == 0, err
    demo = read_mp4(tmp_path / 'demo' / 'episode-000-actor.mp4')
    app = read_mp4(tmp_path / 'app' / 'actor.mp4')
    # The same size, with the caption band under the 420-row game picture.
    assert demo.shape[1:] == app.shape[1:] == (444, 320, 3)
    for video in (demo, app):
        game = video[0, :420].astype(int)
        # Actor: map in green, luminance in red and blue.
        assert np.abs(game[..., 0] - game[..., 2]).mean() < 3
        assert np.abs(game[..., 1] - game[..., 0]).mean() > 5


# ----------------------------------------------- a report a reader can trust

def test_a_small_report_says_too_few_frames_and_defines_its_terms(
        tmp_path):
    status, _, err = run(
        'faithfulness.py --load {} --frames 8 --methods guided '
        '--random-orderings 1 --interventions --out r'.format(PONG),
        tmp_path)
    assert status == 0, err
    text = (tmp_path / 'r' / 'report.md').read_text()
    assert 'too few frames' in text
    assert '**agreement**:' in text and '**not drawn as asked**:' in text


# ---------------------------------------------------- errors name the fix

def test_a_truncated_model_is_called_damaged(tmp_path):
    shutil.copytree(PONG, tmp_path / 'agent')
    model = tmp_path / 'agent' / 'model.npz'
    model.write_bytes(model.read_bytes()[:5000])
    status, _, err = run('train_a3c_gym.py 1 --demo --load agent '
                         '--eval-n-runs 1 --saliency none', tmp_path)
    assert status == 2 and one_line(err)
    assert 'damaged or truncated' in err and 'does not fit' not in err


def test_the_app_names_another_game_s_checkpoint(tmp_path, rollout):
    status, _, err = run(
        'saliency_app.py --rollout {} --start-frame 0 --end-frame 1 '
        '--load {} --out app'.format(rollout, BOXING), tmp_path)
    assert status == 2 and one_line(err)
    assert 'Boxing' in err and 'architecture' not in err


@pytest.mark.parametrize('name', ['pong', 'Pong'])
def test_an_unknown_game_lists_the_ids_of_its_name(tmp_path, name):
    status, _, err = run('train_a3c_gym.py 1 --demo --load {} --env {} '
                         '--saliency none'.format(PONG, name), tmp_path)
    assert status == 2 and one_line(err)
    assert 'PongNoFrameskip-v4' in err and 'Did you mean' not in err
