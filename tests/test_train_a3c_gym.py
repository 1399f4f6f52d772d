import errno
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from conftest import run_launcher

from common import cli
import env_gym_chainer
import train_a3c_gym
from training import runner
from media import viewer
from env_gym_chainer import GymEnvironment
from media.video import read_mp4

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
                    'n_actions': 6, 'frame_buffer_length': 4, 'steps': 200,
                    'optimizer': 'rmsprop'}
    assert not glob.glob(os.path.join(trained_run, '*.tmp-*'))


def test_no_environment_variables_on_disk(trained_run):
    for root, _, files in os.walk(trained_run):
        assert 'environ.txt' not in files
        for name in files:
            with open(os.path.join(root, name), 'rb') as f:
                assert b'sk-do-not-write-me-123' not in f.read()


def test_a_demo_needs_no_process_count(trained_run, capsys):
    rc = run_launcher(['--demo', '--load',
                       os.path.join(trained_run, '200_finish'),
                       '--saliency', 'none', '--eval-n-runs', '1',
                       '--max-episode-len', '20'])
    assert rc == 0
    assert 'n_runs: 1 mean:' in capsys.readouterr().out


def test_demo_on_the_finished_checkpoint(trained_run, capsys):
    rc = run_launcher([1, '--env', 'PongNoFrameskip-v4', '--demo', '--load',
                       os.path.join(trained_run, '200_finish'),
                       '--max-episode-len', 50, '--eval-n-runs', 1])
    assert rc == 0
    assert STATS_LINE.search(capsys.readouterr().out)


def test_resume_carries_the_step_count_on(trained_run, tmp_path, capsys):
    rc = run_launcher([2, '--env', 'PongNoFrameskip-v4', '--steps', 260,
                       '--outdir', tmp_path, '--eval-n-runs', 0,
                       '--checkpoint-interval', 0, '--lr-schedule', 'linear',
                       '--load', os.path.join(trained_run, '200_finish')])
    assert rc == 0
    assert 'from step 200' in capsys.readouterr().out
    finish, = glob.glob(str(tmp_path / '*' / '260_finish'))
    info = json.load(open(os.path.join(finish, 'checkpoint.json')))
    assert info['steps'] == 260


def test_resume_trains_on_from_the_loaded_weights(trained_run, tmp_path):
    # With a vanishing learning rate, a resumed run must end where it began.
    checkpoint = os.path.join(trained_run, '200_finish')
    rc = run_launcher([1, '--env', 'PongNoFrameskip-v4', '--steps', 230,
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
    hook = runner.linear_lr_decay_hook(1e-3, total_steps=1000)
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
    (['1', '--seed', '-1'], '--seed: must be >= 0'),
    (['1', '--seed', str(10 ** 30)], '--seed: must be <= 1048575'),
    (['1', '--lr', 'inf'], '--lr: must be a finite number'),
    (['1', '--beta', 'nan'], '--beta: must be a finite number'),
    (['1', '--reward-scale-factor', 'nan'], 'must be a finite number'),
    (['1', '--weight-decay', '-0.1'], '--weight-decay: must be >= 0'),
    (['1', '--video-scale', '1000'], '--video-scale: must be <= 8'),
    (['1000', '--steps', '5'], 'processes: must be <= 64'),
    (['1', '--steps', str(2 ** 60)], '--steps: must be <='),
    (['--steps', '5'], 'training needs the number of worker processes'),
    (['1', '--steps', '5', '--save-maps', '--saliency', 'greydanus'],
     '--methods, --save-maps only applies with --demo'),
    (['1', '--steps', '5', '--video-dir', 'v'],
     '--out only applies with --demo'),
    (['1', '--steps', '5', '--optimizer', 'adam', '--rmsprop-epsilon',
      '0.1'], '--rmsprop-epsilon has no effect when training with Adam'),
])
def test_bad_input_gives_one_line_and_status_2(capsys, argv, needle):
    _one_line_error(capsys, argv, needle)


def test_unwritable_outdir(capsys, tmp_path, monkeypatch):
    # As root every folder is writable: refuse the write itself, as the
    # kernel does for a user without permission.
    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, 'Permission denied', path)
    monkeypatch.setattr(cli, 'open', refuse, raising=False)
    err = _one_line_error(capsys, ['1', '--outdir', tmp_path / 'out'],
                          'cannot write to --outdir')
    assert 'Permission denied' in err


def test_unwritable_outdir_that_is_a_file(capsys, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    _one_line_error(capsys, ['1', '--outdir', blocker / 'out'],
                    'cannot write to --outdir')


def test_checkpoint_for_another_action_count(trained_run, capsys):
    _one_line_error(capsys, ['1', '--env', 'BreakoutNoFrameskip-v4',
                             '--demo', '--allow-other-game', '--load',
                             os.path.join(trained_run, '200_finish')],
                    'n_actions=6 but this run needs n_actions=4')


def test_checkpoint_of_another_game_is_refused_unless_asked_for(
        trained_run, capsys, tmp_path):
    pong = os.path.join(trained_run, '200_finish')
    # Boxing has 18 actions; a Pong id of another version is the same game.
    _one_line_error(capsys, ['1', '--env', 'Boxing-v0', '--demo', '--load',
                             pong], 'was trained on PongNoFrameskip-v4, '
                    'this run plays Boxing-v0; leave --env out to play its '
                    'game, or add --allow-other-game')
    # Without --env the checkpoint's game is played.
    assert run_launcher([1, '--demo', '--load', pong, '--eval-n-runs', 1,
                         '--max-episode-len', 3, '--saliency', 'none']) == 0
    assert run_launcher([1, '--env', 'ALE/Pong-v5', '--demo', '--load', pong,
                         '--eval-n-runs', 1, '--max-episode-len', 5,
                         '--saliency', 'none']) == 0


def test_weights_only_checkpoint_for_another_action_count(
        trained_run, tmp_path, capsys):
    bare = tmp_path / 'weights_only'
    bare.mkdir()
    shutil.copy(os.path.join(trained_run, '200_finish', 'model.npz'), bare)
    _one_line_error(capsys, ['1', '--env', 'BreakoutNoFrameskip-v4',
                             '--demo', '--load', bare], 'does not fit')
    # The same weights-only folder is a valid Pong agent.
    assert run_launcher([1, '--demo', '--load', bare, '--eval-n-runs', 1,
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


def test_frame_buffer_length_conflicts_with_lstm(capsys):
    rc = train_a3c_gym.main(['1', '--arch', 'LSTM', '--demo',
                             '--frame-buffer-length', '4'])
    assert rc == 2
    assert 'sees 1 frame(s)' in capsys.readouterr().err


# --demo: saliency videos from a trained checkpoint on a real ALE game.


def _finish(trained_run):
    return os.path.join(trained_run, '200_finish')


def test_demo_writes_actor_and_critic_videos(trained_run, tmp_path, capsys):
    video_dir = tmp_path / 'videos'
    rc = run_launcher([1, '--env', 'PongNoFrameskip-v4', '--demo', '--load',
                       _finish(trained_run), '--eval-n-runs', 1,
                       '--max-episode-len', 30, '--video-dir', video_dir,
                       '--save-maps'])
    assert rc == 0
    out = capsys.readouterr().out
    actor = video_dir / 'episode-000-actor.mp4'
    critic = video_dir / 'episode-000-critic.mp4'
    assert str(actor) in out and str(critic) in out
    actor_frames, critic_frames = read_mp4(actor), read_mp4(critic)
    assert actor_frames.shape == critic_frames.shape == (30, 444, 320, 3)
    # The game picture above the caption band.
    actor_frames, critic_frames = actor_frames[:, :420], critic_frames[:, :420]
    maps = np.load(video_dir / 'episode-000-maps.npz')
    assert maps['actor'].shape == (30, 84, 84)
    # The critic stream carries its map in red: red departs from the
    # luminance that green and blue share.
    c = critic_frames.astype(int)
    assert np.abs(c[..., 1] - c[..., 2]).mean() < 3
    assert np.abs(c[..., 0] - c[..., 1]).mean() > 10
    a = actor_frames.astype(int)
    assert np.abs(a[..., 0] - a[..., 2]).mean() < 3
    assert np.abs(a[..., 1] - a[..., 0]).mean() > 10


def test_composite_demo_with_a_new_method(trained_run, tmp_path, capsys):
    video_dir = tmp_path / 'composite'
    rc = run_launcher([1, '--env', 'PongNoFrameskip-v4', '--demo', '--load',
                       _finish(trained_run), '--eval-n-runs', 1,
                       '--max-episode-len', 6, '--video-dir', video_dir,
                       '--saliency', 'sarfa', '--saliency-chunk', 96,
                       '--composite', '--save-maps'])
    assert rc == 0
    assert sorted(p.name for p in video_dir.iterdir()) == [
        'episode-000-composite.mp4', 'episode-000-maps.npz',
        'episode-000.html']
    assert read_mp4(video_dir / 'episode-000-composite.mp4').shape == (
        6, 540, 648, 3)
    maps = np.load(video_dir / 'episode-000-maps.npz')
    assert maps['critic_signed'].shape == (6, 84, 84)
    # At the blobs' grid points (every 5th pixel) the critic map is the
    # positive part of the signed one (in between both are interpolated).
    np.testing.assert_allclose(maps['critic'][:, ::5, ::5],
                               np.maximum(maps['critic_signed'][:, ::5, ::5],
                                          0), atol=1e-6)
    assert (maps['critic_signed'] < 0).any()


def test_saliency_none_writes_no_video(trained_run, tmp_path):
    video_dir = tmp_path / 'none'
    rc = run_launcher([1, '--demo', '--load', _finish(trained_run),
                       '--eval-n-runs', 1, '--max-episode-len', 10,
                       '--saliency', 'none', '--video-dir', video_dir])
    assert rc == 0
    assert not list(video_dir.glob('*.mp4'))


def test_unwritable_video_dir(trained_run, tmp_path, capsys):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    rc = train_a3c_gym.main(['1', '--demo', '--load', _finish(trained_run),
                             '--video-dir', str(blocker / 'v')])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'cannot write to --out' in err


def test_ctrl_c_mid_demo_leaves_playable_videos(
        trained_run, tmp_path, monkeypatch, capsys):
    real_step = GymEnvironment.step
    calls = []

    def step_then_interrupt(self, action):
        calls.append(action)
        if len(calls) == 12:
            raise KeyboardInterrupt
        return real_step(self, action)

    monkeypatch.setattr(GymEnvironment, 'step', step_then_interrupt)
    video_dir = tmp_path / 'v'
    rc = train_a3c_gym.main(['1', '--demo', '--load', _finish(trained_run),
                             '--eval-n-runs', '1', '--video-dir',
                             str(video_dir), '--saliency-scale', 'episode'])
    assert rc == 130
    assert 'interrupted' in capsys.readouterr().err
    # 12 actions were chosen; the 12th step never happened but its frame
    # had been rendered.
    for stream in ('actor', 'critic'):
        assert len(read_mp4(video_dir / 'episode-000-{}.mp4'.format(
            stream))) == 12


def test_render_without_display_warns_once_and_writes_files(
        trained_run, tmp_path, capsys, monkeypatch):
    # The warning is once per process; this test may not be the first.
    monkeypatch.setattr(viewer, '_warned_no_display', False)
    video_dir = tmp_path / 'v'
    rc = run_launcher([1, '--demo', '--load', _finish(trained_run),
                       '--eval-n-runs', 1, '--max-episode-len', 5,
                       '--render', '--video-dir', video_dir])
    assert rc == 0
    err = capsys.readouterr().err
    assert err.count('no display available') == 1
    assert len(read_mp4(video_dir / 'episode-000-actor.mp4')) == 5


def test_monitor_records_the_game(trained_run, tmp_path):
    video_dir = tmp_path / 'v'
    rc = run_launcher([1, '--demo', '--load', _finish(trained_run),
                       '--eval-n-runs', 1, '--max-episode-len', 8,
                       '--saliency', 'none', '--monitor',
                       '--video-dir', video_dir])
    assert rc == 0
    frames = read_mp4(video_dir / 'monitor' / 'episode-000000.mp4')
    assert frames.shape == (9, 210, 160, 3)     # the reset frame + 8 steps


def test_record_rollout_onto_a_folder_is_refused_before_playing(
        trained_run, tmp_path, capsys, monkeypatch):
    played = []
    monkeypatch.setattr(GymEnvironment, 'step',
                        lambda *a: played.append(1) or 1 / 0)
    _one_line_error(capsys, ['1', '--demo', '--load',
                             _finish(trained_run), '--record-rollout',
                             tmp_path], 'is a folder')
    assert not played


def test_a_diverging_loss_stops_training_and_keeps_the_checkpoints(
        tmp_path, capsys, monkeypatch):
    from training import batched_a3c
    real_update = batched_a3c.BatchedA3C.update
    calls = []

    def poisoned(self, statevar):
        calls.append(1)
        if self.t > 60:
            self.past_rewards[self.t_start] = float('nan')
        return real_update(self, statevar)
    monkeypatch.setattr(batched_a3c.BatchedA3C, 'update', poisoned)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        rc = train_a3c_gym.main(['1', '--steps', '200', '--outdir',
                                 str(tmp_path), '--eval-n-runs', '0',
                                 '--checkpoint-interval', '50'])
    assert rc == 1
    assert 'a training worker crashed' in capsys.readouterr().err
    run, = glob.glob(str(tmp_path / '*'))
    assert os.path.isdir(os.path.join(run, '50_checkpoint'))
    assert not glob.glob(os.path.join(run, '200_finish'))
    # What was kept loads (finite weights only).
    from agents import load_agent
    load_agent(os.path.join(run, '50_checkpoint'))


def _fill_disk(monkeypatch, name_part, method):
    """Video writers whose path contains ``name_part`` fail with ENOSPC in
    ``method`` (after doing its work)."""
    import imageio.v2 as imageio
    real = imageio.get_writer

    def fills_up(path, *args, **kwargs):
        writer = real(path, *args, **kwargs)
        if name_part in path:
            done = getattr(writer, method)

            def fail(*a):
                done(*a)
                raise OSError(errno.ENOSPC, 'No space left on device')
            setattr(writer, method, fail)
        return writer
    monkeypatch.setattr(imageio, 'get_writer', fills_up)


def test_a_full_disk_mid_demo_ends_in_one_line(trained_run, tmp_path, capsys,
                                               monkeypatch):
    _fill_disk(monkeypatch, 'critic', 'append_data')
    video_dir = tmp_path / 'v'
    rc = train_a3c_gym.main(['1', '--demo', '--load', _finish(trained_run),
                             '--eval-n-runs', '1', '--max-episode-len', '5',
                             '--video-dir', str(video_dir)])
    assert rc == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and 'No space left on device' in err[0], err
    # The actor video was complete and is listed; nothing partial is left.
    assert os.listdir(video_dir) == ['episode-000-actor.mp4']
    assert 'episode-000-critic' not in captured.out
    assert len(read_mp4(video_dir / 'episode-000-actor.mp4')) == 1


@pytest.mark.parametrize('signals', [
    [signal.SIGTERM], [signal.SIGINT, signal.SIGINT]])
def test_signals_leave_playable_videos(trained_run, tmp_path, signals):
    video_dir = tmp_path / 'v'
    proc = subprocess.Popen(
        [sys.executable, train_a3c_gym.__file__, '1', '--demo', '--load',
         _finish(trained_run), '--eval-n-runs', '1', '--video-dir',
         str(video_dir), '--save-maps', '--record-rollout',
         str(tmp_path / 'rollout.npz')],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait for the videos to start, then signal the process alone.
    deadline = time.time() + 60
    while time.time() < deadline and not glob.glob(
            str(video_dir / '.episode-000-critic.part-*.mp4')):
        time.sleep(0.1)
    time.sleep(1.0)
    for number in signals:
        proc.send_signal(number)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == (143 if signals == [signal.SIGTERM] else 130)
    # The page of the steps done too (written whole).
    assert sorted(os.listdir(video_dir)) == [
        'episode-000-actor.mp4', 'episode-000-critic.mp4',
        'episode-000-maps.npz', 'episode-000.html']
    actor = read_mp4(video_dir / 'episode-000-actor.mp4')
    maps = np.load(video_dir / 'episode-000-maps.npz')
    assert len(actor) == len(maps['actor']) > 5
    assert len(np.load(tmp_path / 'rollout.npz')['actions']) == len(actor)
    assert 'Traceback' not in err


def test_a_full_disk_under_the_monitor_video(trained_run, tmp_path, capsys,
                                             monkeypatch):
    _fill_disk(monkeypatch, 'monitor', 'close')
    video_dir = tmp_path / 'v'
    rc = train_a3c_gym.main(['1', '--demo', '--load', _finish(trained_run),
                             '--eval-n-runs', '1', '--max-episode-len', '4',
                             '--monitor', '--video-dir', str(video_dir)])
    assert rc == 1
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1
    assert 'No space left on device' in captured.err
    # The saliency videos were still finished and listed.
    assert sorted(os.listdir(video_dir)) == [
        'episode-000-actor.mp4', 'episode-000-critic.mp4',
        'episode-000.html', 'monitor']
    assert os.listdir(video_dir / 'monitor') == []
    assert 'episode-000-critic.mp4' in captured.out


def test_a_q_network_is_not_trained_by_a3c(capsys):
    assert run_launcher([1, '--arch', 'NatureQ', '--steps', 10]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'is a Q-network' in err[0]


PONG = os.path.join(os.path.dirname(__file__), '..', 'examples', 'mygym',
                    'pretrained', 'pong')


def test_greedy_acts_on_the_most_probable_action(monkeypatch):
    """--greedy: the demo's agent takes the argmax of its policy (a flag
    only a demo reads)."""
    seen = []
    real = train_a3c_gym.run_demo

    def spy(args, agent, *rest):
        rc = real(args, agent, *rest)
        seen.append(agent.act_deterministically)
        return rc
    monkeypatch.setattr(train_a3c_gym, 'run_demo', spy)
    for flags in ([], ['--greedy']):
        assert run_launcher([1, '--demo', '--load', PONG, '--eval-n-runs', 1,
                             '--max-episode-len', 3, '--saliency', 'none']
                            + flags) == 0
    assert seen == [False, True]
    assert run_launcher([1, '--greedy', '--steps', 10]) == 2


def test_a_demo_without_a_checkpoint_names_the_shipped_agents(
        capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert train_a3c_gym.main(['1', '--demo']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and '--demo needs --load' in err[0]
    for name in ('pretrained/pong', 'pretrained/breakout-lstm',
                 'pretrained/boxing'):
        assert name in err[0]
        assert os.path.isdir(os.path.join(os.path.dirname(__file__), '..',
                                          'examples', 'mygym', name))
    assert os.listdir(tmp_path) == []       # nothing written


def test_a_damaged_model_file_is_called_damaged(capsys, tmp_path):
    """A truncated model.npz: damaged, not "does not fit this model"."""
    folder = tmp_path / 'cut'
    folder.mkdir()
    shutil.copy(os.path.join(PONG, 'checkpoint.json'), folder)
    whole = open(os.path.join(PONG, 'model.npz'), 'rb').read()
    (folder / 'model.npz').write_bytes(whole[:len(whole) // 3])
    assert train_a3c_gym.main(['1', '--demo', '--load', str(folder),
                               '--saliency', 'none']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'model.npz is damaged or truncated' in err[0]
    assert 'does not fit' not in err[0]


def test_a_run_shorter_than_the_eval_interval_still_evaluates(tmp_path):
    """The README's short example: a training that never reaches
    --eval-interval ends with one evaluation row and a best/."""
    assert run_launcher([1, '--env', 'PongNoFrameskip-v4', '--steps', 40,
                         '--eval-interval', 1000, '--eval-n-runs', 1,
                         '--max-episode-len', 5, '--outdir', tmp_path]) == 0
    run, = [p for p in tmp_path.iterdir() if p.is_dir()]
    rows = (run / 'scores.txt').read_text().splitlines()
    assert rows[0].startswith('steps\tepisodes') and len(rows) == 2
    assert int(rows[1].split('\t')[0]) >= 40
    assert (run / 'best' / 'model.npz').is_file()
