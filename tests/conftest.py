import glob
import os
import warnings

import pytest

# Tests run headless, whatever the developer's desktop offers.
os.environ.pop('DISPLAY', None)

import chainerrl_compat  # noqa: E402,F401
from chainerrl.misc.async_ import AbnormalExitWarning  # noqa: E402

import train_a3c_gym  # noqa: E402


def run_launcher(argv):
    """Run the launcher in-process; fail on any crashed worker."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        rc = train_a3c_gym.main([str(a) for a in argv])
    abnormal = [w for w in caught
                if issubclass(w.category, AbnormalExitWarning)]
    assert not abnormal, [str(w.message) for w in abnormal]
    return rc


@pytest.fixture(scope='session')
def trained_run(tmp_path_factory):
    """200 real A3C steps on Pong with 2 processes (the smoke test)."""
    outdir = tmp_path_factory.mktemp('train')
    os.environ['GBP_TEST_SECRET'] = 'sk-do-not-write-me-123'
    try:
        rc = run_launcher([2, '--env', 'PongNoFrameskip-v4', '--steps', 200,
                           '--outdir', outdir, '--eval-interval', 100,
                           '--eval-n-runs', 1, '--max-episode-len', 30,
                           '--checkpoint-interval', 100, '--seed', 1])
    finally:
        del os.environ['GBP_TEST_SECRET']
    assert rc == 0
    run_dirs = glob.glob(str(outdir / '*'))
    assert len(run_dirs) == 1
    return run_dirs[0]


@pytest.fixture(scope='session')
def trained_lstm(tmp_path_factory):
    """200 real A3C steps of the LSTM-CNN agent on Breakout, 2 processes."""
    outdir = tmp_path_factory.mktemp('lstm')
    rc = run_launcher([2, '--arch', 'LSTM', '--env', 'BreakoutNoFrameskip-v4',
                       '--steps', 200, '--outdir', outdir, '--eval-n-runs', 0,
                       '--checkpoint-interval', 0, '--seed', 2])
    assert rc == 0
    finish, = glob.glob(str(outdir / '*' / '200_finish'))
    return finish


@pytest.fixture(scope='session')
def rollout_path(trained_run, tmp_path_factory):
    """A 20-step Pong rollout recorded by a greydanus demo."""
    path = tmp_path_factory.mktemp('rollout') / 'pong.npz'
    rc = run_launcher([1, '--demo', '--load',
                       os.path.join(trained_run, '200_finish'),
                       '--eval-n-runs', 1, '--max-episode-len', 20,
                       '--saliency', 'greydanus', '--saliency-chunk', 64,
                       '--record-rollout', path,
                       '--video-dir', path.parent / 'videos'])
    assert rc == 0
    return str(path)


@pytest.fixture(scope='session')
def lstm_rollout(trained_lstm, tmp_path_factory):
    """A 25-step Breakout rollout of the LSTM agent (recurrent states)."""
    path = tmp_path_factory.mktemp('lstm_rollout') / 'rollout.npz'
    rc = run_launcher([1, '--arch', 'LSTM', '--env',
                       'BreakoutNoFrameskip-v4', '--demo', '--load',
                       trained_lstm, '--eval-n-runs', 1, '--max-episode-len',
                       25, '--saliency', 'none', '--record-rollout', path])
    assert rc == 0
    return str(path)
