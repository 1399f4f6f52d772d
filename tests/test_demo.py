"""The demo on a real ALE game: saliency videos from a trained checkpoint."""
import os

import numpy as np

import chainer
import train_a3c_gym
import viewer
from conftest import run_launcher
from env_gym_chainer import GymEnvironment
from saliency import make_saliency
from video import read_mp4


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
    assert actor_frames.shape == critic_frames.shape == (30, 420, 320, 3)
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


def test_saliency_none_writes_no_video(trained_run, tmp_path):
    video_dir = tmp_path / 'none'
    rc = run_launcher([1, '--demo', '--load', _finish(trained_run),
                       '--eval-n-runs', 1, '--max-episode-len', 10,
                       '--saliency', 'none', '--video-dir', video_dir])
    assert rc == 0
    assert not list(video_dir.glob('*.mp4'))


def test_saliency_does_not_change_the_actions(trained_run):
    args = train_a3c_gym.build_parser().parse_args(['1'])
    actions = {}
    for name in ('none', 'guided'):
        agent = train_a3c_gym.make_agent(args, 6)
        agent.load(_finish(trained_run))
        agent.saliency = None if name == 'none' else make_saliency(name)
        env = GymEnvironment('PongNoFrameskip-v4', seed=5)
        obs = env.reset()
        np.random.seed(123)
        taken = []
        with chainer.using_config('train', False):
            for _ in range(40):
                a = agent.act(obs)
                taken.append(int(a))
                obs, _, done, _ = env.step(a)
        actions[name] = taken
    assert actions['none'] == actions['guided']
    assert len(set(actions['none'])) > 1


def test_unwritable_video_dir(trained_run, tmp_path, capsys):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    rc = train_a3c_gym.main(['1', '--demo', '--load', _finish(trained_run),
                             '--video-dir', str(blocker / 'v')])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'cannot write to --video-dir' in err


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
