import glob
import json
import os
import re
import shutil
import warnings

import numpy as np
import pytest

from conftest import run_launcher as _main

import env_gym_chainer
import train_a3c_gym
import training

STATS_LINE = re.compile(
    r'^n_runs: 1 mean: -?[\d.]+ median: -?[\d.]+ stdev: [\d.]+$', re.M)


def test_training_writes_the_usual_run_folder(trained_run):
    names = set(os.listdir(trained_run))
    assert {'200_finish', 'best', '100_checkpoint', '200_checkpoint',
            'scores.txt', 'args.json', 'command.txt'} <= names
    rows = open(os.path.join(trained_run, 'scores.txt')).read().splitlines()
    assert rows[0].startswith('steps\tepisodes\telapsed\tmean')
    assert len(rows) >= 2
    info = json.load(open(os.path.join(trained_run, '200_finish',
                                       'checkpoint.json')))
    assert info == {'env': 'PongNoFrameskip-v4', 'arch': 'FFSoftmax',
                    'n_actions': 6, 'frame_buffer_length': 4, 'steps': 200}
    assert not glob.glob(os.path.join(trained_run, '*.tmp-*'))


def test_no_environment_variables_on_disk(trained_run):
    for root, _, files in os.walk(trained_run):
        assert 'environ.txt' not in files
        for name in files:
            with open(os.path.join(root, name), 'rb') as f:
                assert b'sk-do-not-write-me-123' not in f.read()


def test_demo_on_the_finished_checkpoint(trained_run, capsys):
    rc = _main([1, '--env', 'PongNoFrameskip-v4', '--demo', '--load',
                os.path.join(trained_run, '200_finish'),
                '--max-episode-len', 50, '--eval-n-runs', 1])
    assert rc == 0
    assert STATS_LINE.search(capsys.readouterr().out)


def test_resume_carries_the_step_count_on(trained_run, tmp_path, capsys):
    rc = _main([2, '--env', 'PongNoFrameskip-v4', '--steps', 260,
                '--outdir', tmp_path, '--eval-n-runs', 0,
                '--checkpoint-interval', 0, '--lr-schedule', 'linear',
                '--load', os.path.join(trained_run, '200_finish')])
    assert rc == 0
    assert 'from step 200' in capsys.readouterr().out
    finish, = glob.glob(str(tmp_path / '*' / '260_finish'))
    info = json.load(open(os.path.join(finish, 'checkpoint.json')))
    assert info['steps'] == 260


def test_load_reaches_the_weights_that_training_updates(trained_run):
    checkpoint = os.path.join(trained_run, '200_finish')
    saved = np.load(os.path.join(checkpoint, 'model.npz'))
    agent = train_a3c_gym.make_agent(
        train_a3c_gym.build_parser().parse_args(['1']), 6)
    agent.load(checkpoint)
    for model in (agent.model, agent.shared_model):
        for name, param in model.namedparams():
            np.testing.assert_array_equal(param.array, saved[name[1:]])


def test_resume_trains_on_from_the_loaded_weights(trained_run, tmp_path):
    # With a vanishing learning rate, a resumed run must end where it began.
    checkpoint = os.path.join(trained_run, '200_finish')
    rc = _main([1, '--env', 'PongNoFrameskip-v4', '--steps', 230,
                '--outdir', tmp_path, '--eval-n-runs', 0,
                '--checkpoint-interval', 0, '--lr', 1e-12, '--seed', 7,
                '--load', checkpoint])
    assert rc == 0
    finish, = glob.glob(str(tmp_path / '*' / '230_finish'))
    before = np.load(os.path.join(checkpoint, 'model.npz'))
    after = np.load(os.path.join(finish, 'model.npz'))
    assert sorted(before.files) == sorted(after.files)
    for name in before.files:
        np.testing.assert_allclose(after[name], before[name], atol=1e-8)


def test_linear_lr_schedule_depends_on_the_global_step_only():
    class Agent:
        class optimizer:
            lr = None
    hook = training.linear_lr_decay_hook(1e-3, total_steps=1000)
    hook(None, Agent, 250)
    # ChainerRL interpolates from step 1 to step total_steps.
    assert Agent.optimizer.lr == pytest.approx(1e-3 * (1 - 249 / 999))
    hook(None, Agent, 1000)
    assert Agent.optimizer.lr == pytest.approx(0.0)


def _one_line_error(capsys, argv, needle):
    rc = train_a3c_gym.main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    assert 'Traceback' not in err
    assert needle in err
    return err


@pytest.mark.parametrize('argv,needle', [
    (['1', '--env', 'Foo-v0', '--demo'], "unknown game id 'Foo-v0'"),
    (['1', '--env', 'CartPole-v1', '--demo'], 'not an Atari'),
    (['1', '--demo', '--load', '/no/such/checkpoint'], 'no checkpoint'),
    (['1', '--demo', '--load', '/'], 'no model.npz'),
    (['1', '--steps', '-5'], '--steps: must be >= 1'),
    (['0', '--demo'], 'processes: must be >= 1'),
    (['1', '--eval-n-runs', 'many'], 'expected an integer'),
    (['1', '--lr', '0'], '--lr: must be > 0'),
    (['1', '--gradient-clipping', '-1'], '--gradient-clipping: must be > 0'),
])
def test_bad_input_gives_one_line_and_status_2(capsys, argv, needle):
    _one_line_error(capsys, argv, needle)


def test_unwritable_outdir(capsys, tmp_path):
    locked = tmp_path / 'locked'
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(str(locked), os.W_OK):
            pytest.skip('running as a user who can write anywhere')
        _one_line_error(capsys, ['1', '--outdir', locked / 'out'],
                        'cannot write to --outdir')
    finally:
        locked.chmod(0o700)


def test_unwritable_outdir_that_is_a_file(capsys, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    _one_line_error(capsys, ['1', '--outdir', blocker / 'out'],
                    'cannot write to --outdir')


def test_checkpoint_for_another_action_count(trained_run, capsys):
    _one_line_error(capsys, ['1', '--env', 'BreakoutNoFrameskip-v4',
                             '--demo', '--load',
                             os.path.join(trained_run, '200_finish')],
                    'n_actions=6 but this run needs n_actions=4')


def test_weights_only_checkpoint_for_another_action_count(
        trained_run, tmp_path, capsys):
    bare = tmp_path / 'weights_only'
    bare.mkdir()
    shutil.copy(os.path.join(trained_run, '200_finish', 'model.npz'), bare)
    _one_line_error(capsys, ['1', '--env', 'BreakoutNoFrameskip-v4',
                             '--demo', '--load', bare], 'does not fit')
    # The same weights-only folder is a valid Pong agent.
    assert _main([1, '--demo', '--load', bare, '--eval-n-runs', 1,
                  '--max-episode-len', 5]) == 0


def test_nothing_left_to_train(trained_run, capsys, tmp_path):
    _one_line_error(capsys, ['1', '--steps', 100, '--outdir', tmp_path,
                             '--load', os.path.join(trained_run,
                                                    '200_finish')],
                    'nothing to train')


def test_a_crashing_worker_fails_the_run(monkeypatch, tmp_path, capsys):
    def broken_step(self, action):
        raise RuntimeError('emulator exploded')
    monkeypatch.setattr(env_gym_chainer.GymEnvironment, 'step', broken_step)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        rc = train_a3c_gym.main(['2', '--steps', '50', '--outdir',
                                 str(tmp_path), '--eval-n-runs', '0'])
    assert rc == 1
    assert 'a training worker crashed' in capsys.readouterr().err


def test_phi_scales_to_unit_range():
    obs = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    np.testing.assert_allclose(train_a3c_gym.phi(obs),
                               [[[0, 1], [0.2, 0.4]]], rtol=1e-6)
    assert train_a3c_gym.phi(obs).dtype == np.float32


@pytest.mark.parametrize('clip', [None, 2.0])
def test_gradient_clipping_scales_the_update(clip):
    argv = ['1', '--lr', '0.1', '--rmsprop-epsilon', '1']
    if clip is not None:
        argv += ['--gradient-clipping', str(clip)]
    agent = train_a3c_gym.make_agent(
        train_a3c_gym.build_parser().parse_args(argv), 6)
    model = agent.optimizer.target
    params = list(model.params())
    n = sum(p.size for p in params)
    before = [p.array.copy() for p in params]
    for p in params:
        p.grad = np.full_like(p.array, 3.0)
    agent.optimizer.update()
    # Global norm 3 * sqrt(n): clipping to `clip` scales every element.
    g = 3.0 if clip is None else clip / np.sqrt(n)
    step = 0.1 * g / np.sqrt(0.01 * g * g + 1.0)
    for p, b in zip(params, before):
        np.testing.assert_allclose(b - p.array, step, rtol=1e-4)
