"""Rollout recording and the frame-range saliency app, on real ALE frames."""
import json
import os

import numpy as np

import saliency_app
from evaluation.rollout import load_rollout
from media.video import read_mp4
from kernels.colour import luma8


def test_app_writes_videos_of_the_frame_range(rollout_path, tmp_path,
                                              capsys):
    out = tmp_path / 'app'
    rc = saliency_app.main(['--rollout', rollout_path, '--start-frame', '10',
                            '--end-frame', '14', '--method', 'greydanus',
                            '--out', str(out), '--workers', '2'])
    assert rc == 0
    assert str(out / 'actor.mp4') in capsys.readouterr().out
    actor, critic = read_mp4(out / 'actor.mp4'), read_mp4(out / 'critic.mp4')
    # Drawn as the demo's: magnified twice, a caption band under the game.
    assert actor.shape == critic.shape == (5, 444, 320, 3)
    maps = np.load(out / 'maps.npz')
    np.testing.assert_array_equal(maps['frames'], [10, 11, 12, 13, 14])
    assert maps['actor'].shape == (5, 84, 84)
    # Red and blue are the real frame's luminance; green carries the
    # actor's saliency (the critic's: red).
    arrays, _ = load_rollout(rollout_path)
    luma = luma8(arrays['frames'][10:15]).astype(int)
    luma = np.repeat(np.repeat(luma, 2, axis=1), 2, axis=2)
    game_actor = actor[:, :420].astype(int)
    game_critic = critic[:, :420].astype(int)
    assert np.abs(game_actor[..., 0] - luma).mean() < 4
    assert np.abs(game_actor[..., 1] - luma).mean() > 10
    assert np.abs(game_critic[..., 1] - luma).mean() < 4
    assert np.abs(game_critic[..., 0] - luma).mean() > 10
    # The caption band says which map: the two streams' bands differ.
    assert not np.array_equal(actor[0, 420:], critic[0, 420:])


def test_app_in_one_process_equals_two_workers(rollout_path, tmp_path):
    for workers in ('1', '2'):
        assert saliency_app.main([
            '--rollout', rollout_path, '--start-frame', '3', '--end-frame',
            '5', '--method', 'occlusion', '--out',
            str(tmp_path / workers), '--workers', workers]) == 0
    one, two = (np.load(tmp_path / w / 'maps.npz') for w in ('1', '2'))
    np.testing.assert_allclose(one['actor'], two['actor'], rtol=1e-5)
    np.testing.assert_allclose(one['critic'], two['critic'], rtol=1e-5)


def _app_error(capsys, argv, needle):
    rc = saliency_app.main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    assert needle in err


def test_bad_inputs(rollout_path, tmp_path, capsys):
    base = ['--rollout', rollout_path, '--out', tmp_path / 'x']
    _app_error(capsys, base + ['--start-frame', 5, '--end-frame', 3],
               'is after --end-frame')
    _app_error(capsys, base + ['--start-frame', 15, '--end-frame', 25],
               "outside the rollout's frames 0..19")
    _app_error(capsys, base + ['--start-frame', 1, '--end-frame', 2,
                               '--method', 'telepathy'],
               "unknown method telepathy")
    _app_error(capsys, ['--rollout', tmp_path / 'none.npz',
                        '--start-frame', 0, '--end-frame', 1],
               'no rollout file')
    _app_error(capsys, base + ['--start-frame', 1, '--end-frame', 2,
                               '--fps', 'inf'], 'must be a finite number')
    _app_error(capsys, base + ['--start-frame', 1, '--end-frame', 2,
                               '--workers', '1000'], 'must be <= 64')


def test_rollout_from_another_architecture(rollout_path, tmp_path, capsys):
    arrays, meta = load_rollout(rollout_path)
    meta['arch'] = 'FFSoftmaxMini'
    other = tmp_path / 'mini.npz'
    np.savez(other, meta=np.array(json.dumps(meta)), **arrays)
    _app_error(capsys, ['--rollout', other, '--start-frame', 0,
                        '--end-frame', 1, '--out', tmp_path / 'y'],
               'rollout from another architecture')


def test_app_interrupted_keeps_the_frames_done(rollout_path, tmp_path,
                                               monkeypatch, capsys):
    real = saliency_app.make_saliency
    calls = []

    def make_interrupting(name, chunk, device, model=None, scoring='auto'):
        method = real(name, chunk=chunk, device=device, model=model,
                      scoring=scoring)

        def interrupting(*args):
            calls.append(1)
            if len(calls) == 4:          # Ctrl-C while on the 4th frame
                raise KeyboardInterrupt
            return method(*args)
        return interrupting

    monkeypatch.setattr(saliency_app, 'make_saliency', make_interrupting)
    out = tmp_path / 'app'
    rc = saliency_app.main(['--rollout', rollout_path, '--start-frame', '2',
                            '--end-frame', '9', '--method', 'guided',
                            '--out', str(out), '--workers', '1'])
    assert rc == 130
    assert 'interrupted' in capsys.readouterr().err
    assert read_mp4(out / 'actor.mp4').shape[0] == 3
    assert read_mp4(out / 'critic.mp4').shape[0] == 3
    np.testing.assert_array_equal(np.load(out / 'maps.npz')['frames'],
                                  [2, 3, 4])


def test_app_replays_the_recorded_states_of_an_lstm_agent(
        lstm_rollout, tmp_path):
    out = tmp_path / 'app'
    assert saliency_app.main(['--rollout', lstm_rollout, '--start-frame',
                              '5', '--end-frame', '9', '--method',
                              'greydanus', '--out', str(out)]) == 0
    assert read_mp4(out / 'actor.mp4').shape[0] == 5
    assert read_mp4(out / 'critic.mp4').shape[0] == 5


def test_workers_never_outnumber_the_frames(rollout_path, tmp_path,
                                            monkeypatch):
    seen = []
    real = saliency_app.compute_maps

    def spy(*args, **kwargs):
        seen.append(args[5])
        return real(*args, **kwargs)
    monkeypatch.setattr(saliency_app, 'compute_maps', spy)
    assert saliency_app.main(['--rollout', rollout_path, '--start-frame',
                              '0', '--end-frame', '1', '--method', 'guided',
                              '--workers', '16', '--out',
                              str(tmp_path / 'o')]) == 0
    assert seen == [2]


def test_a_checkpoint_of_another_game_is_named_as_such(rollout_path, tmp_path,
                                                       capsys):
    """Not "another architecture": the games differ, and the rollout's own
    agent is named."""
    boxing = os.path.join(os.path.dirname(__file__), '..', 'examples',
                          'mygym', 'pretrained', 'boxing')
    _app_error(capsys, ['--rollout', rollout_path, '--start-frame', 0,
                        '--end-frame', 1, '--load', boxing,
                        '--out', tmp_path / 'y'],
               'the rollout plays PongNoFrameskip-v4, checkpoint')
    assert not (tmp_path / 'y').exists()
