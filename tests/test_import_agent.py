"""import_agent.py end to end: an agent of another code base imported,
then watched, explained and measured by the suite's own tools."""
import json
import os

import numpy as np
import pytest

import faithfulness
import import_agent
import saliency_app
from agents import environment_for, load_agent
from conftest import run_launcher
from media.video import read_mp4
from torch_writer import (Planted, baby_a3c_state, greydanus_state,
                          save_legacy, save_zip)


@pytest.fixture(scope='module')
def imported(tmp_path_factory):
    """A Greydanus-format agent (random weights, PyTorch's zip format)
    imported for Breakout."""
    folder = tmp_path_factory.mktemp('imported')
    source = str(folder / 'strong.40.tar')
    save_zip(source, greydanus_state(np.random.default_rng(0)))
    out = str(folder / 'agent')
    assert import_agent.main(['greydanus', source, '--env',
                              'BreakoutNoFrameskip-v4', '--out', out]) == 0
    return out


def test_the_checkpoint_says_what_it_is_and_how_it_plays(imported):
    assert sorted(os.listdir(imported)) == ['checkpoint.json', 'model.npz']
    info = json.load(open(os.path.join(imported, 'checkpoint.json')))
    assert info['arch'] == 'LSTM' and info['n_actions'] == 4
    assert info['imported_from']['format'] == 'greydanus'
    assert len(info['imported_from']['sha256']) == 64
    assert info['protocol']['frame_skip'] == [2, 4]
    assert info['protocol']['max_pool'] is False
    # The environment follows the protocol: 2 to 4 emulator frames per
    # step, the last screen alone, no no-ops.
    agent, info = load_agent(imported)
    env = environment_for(info, seed=0)
    assert env.preprocessor.resample == 'imresize'
    env.reset()
    assert env.emulator.ale.getEpisodeFrameNumber() == 0
    skips = []
    for _ in range(60):
        before = env.emulator.ale.getEpisodeFrameNumber()
        env.step(0)
        skips.append(env.emulator.ale.getEpisodeFrameNumber() - before)
        np.testing.assert_array_equal(env.rgb_frame, env.screen)
    env.close()
    assert set(skips) == {2, 3, 4}


def test_demo_app_and_report_run_on_an_imported_agent(imported, tmp_path):
    rollout = str(tmp_path / 'rollout.npz')
    videos = tmp_path / 'videos'
    assert run_launcher([1, '--env', 'BreakoutNoFrameskip-v4', '--arch',
                         'LSTM', '--demo', '--load', imported,
                         '--eval-n-runs', 1, '--max-episode-len', 12,
                         '--record-rollout', rollout,
                         '--video-dir', videos]) == 0
    actor = read_mp4(videos / 'episode-000-actor.mp4')
    assert actor.shape[0] == 12
    out = tmp_path / 'app'
    assert saliency_app.main(['--rollout', rollout, '--start-frame', '2',
                              '--end-frame', '4', '--method', 'greydanus',
                              '--out', str(out)]) == 0
    assert np.load(out / 'maps.npz')['actor'].shape == (3, 80, 80)
    report = tmp_path / 'report'
    assert faithfulness.main(['--load', imported, '--env',
                              'BreakoutNoFrameskip-v4', '--frames', '3',
                              '--methods', 'guided', '--random-orderings',
                              '1', '--out', str(report)]) == 0
    assert json.load(open(report / 'report.json'))['arch'] == 'LSTM'


def _error(capsys, argv, needle):
    rc = import_agent.main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1, err
    assert needle in err


def test_bad_files_end_in_one_line(tmp_path, capsys):
    good = greydanus_state(np.random.default_rng(1))
    out = ['--env', 'BreakoutNoFrameskip-v4', '--out', tmp_path / 'out']
    marker = tmp_path / 'ran'
    planted = str(tmp_path / 'planted.tar')
    save_zip(planted, good, extra=Planted('touch {}'.format(marker)))
    _error(capsys, ['greydanus', planted] + out, 'refused: the pickle names')
    assert not marker.exists() and not (tmp_path / 'out').exists()
    whole = str(tmp_path / 'whole.tar')
    save_legacy(whole, good)
    data = open(whole, 'rb').read()
    short = str(tmp_path / 'short.tar')
    open(short, 'wb').write(data[:len(data) // 3])
    _error(capsys, ['greydanus', short] + out, 'truncated')
    wrong = dict(good, **{'conv2.weight': np.zeros((32, 32, 5, 5),
                                                   np.float32)})
    save_zip(str(tmp_path / 'wrong.tar'), wrong)
    _error(capsys, ['greydanus', tmp_path / 'wrong.tar'] + out,
           'conv2.weight is (32, 32, 5, 5)')
    renamed = {('policy.' + k): v for k, v in good.items()}
    save_zip(str(tmp_path / 'renamed.tar'), renamed)
    _error(capsys, ['greydanus', tmp_path / 'renamed.tar'] + out,
           'not a visualize_atari NNPolicy')
    six = greydanus_state(np.random.default_rng(1), n_actions=6)
    save_zip(str(tmp_path / 'six.tar'), six)
    _error(capsys, ['greydanus', tmp_path / 'six.tar'] + out,
           'the network has 6 actions but BreakoutNoFrameskip-v4 has 4')
    _error(capsys, ['greydanus', tmp_path / 'absent.tar'] + out, 'no file')
    _error(capsys, ['greydanus', whole, '--env', 'Tennis-v9', '--out',
                    tmp_path / 'o'], 'unknown game id')
    (tmp_path / 'full').mkdir()
    (tmp_path / 'full' / 'keep.txt').write_text('mine')
    _error(capsys, ['greydanus', whole, '--env', 'BreakoutNoFrameskip-v4',
                    '--out', tmp_path / 'full'], 'is not empty')
    assert (tmp_path / 'full' / 'keep.txt').read_text() == 'mine'
    _error(capsys, ['pytorch', whole] + out, "unknown format 'pytorch'")


def test_a_checkpoint_with_a_bad_protocol_is_refused(imported, tmp_path,
                                                     capsys):
    folder = tmp_path / 'edited'
    folder.mkdir()
    for name in ('model.npz', 'checkpoint.json'):
        (folder / name).write_bytes(open(os.path.join(imported, name),
                                         'rb').read())
    info = json.load(open(folder / 'checkpoint.json'))
    info['protocol']['frame_skip'] = [4, 2]
    json.dump(info, open(folder / 'checkpoint.json', 'w'))
    rc = run_launcher([1, '--env', 'BreakoutNoFrameskip-v4', '--arch',
                       'LSTM', '--demo', '--load', folder,
                       '--saliency', 'none'])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert 'protocol field frame_skip is [4, 2]' in err


@pytest.fixture(scope='module')
def imported_gru(tmp_path_factory):
    """A baby-a3c agent (random weights, PyTorch's legacy format, as the
    published files) imported for Space Invaders without naming the
    format."""
    folder = tmp_path_factory.mktemp('gru')
    source = str(folder / 'model.80.tar')
    save_legacy(source, baby_a3c_state(np.random.default_rng(7),
                                       n_actions=6))
    out = str(folder / 'agent')
    assert import_agent.main([source, '--env', 'SpaceInvaders-v4',
                              '--out', out]) == 0
    return out


def test_a_baby_a3c_file_is_recognised_and_plays_by_its_protocol(
        imported_gru, capsys):
    info = json.load(open(os.path.join(imported_gru, 'checkpoint.json')))
    assert info['arch'] == 'GRU' and info['n_actions'] == 6
    assert info['imported_from']['format'] == 'baby-a3c'
    assert info['protocol']['resize'] == 'imresize'
    assert info['protocol']['fire_on_new_life'] is False
    # The launcher takes the network and the game from the checkpoint...
    assert run_launcher(['--demo', '--load', imported_gru, '--eval-n-runs',
                         1, '--max-episode-len', 20, '--saliency',
                         'none']) == 0
    # ... and refuses a contradicting network, naming the checkpoint's.
    assert run_launcher([1, '--arch', 'FFSoftmax', '--demo', '--load',
                         imported_gru, '--saliency', 'none']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'holds arch=GRU' in err[0]


def test_every_tool_runs_on_an_imported_gru_agent(imported_gru, tmp_path):
    rollout = str(tmp_path / 'rollout.npz')
    videos = tmp_path / 'videos'
    assert run_launcher([1, '--demo', '--load', imported_gru,
                         '--eval-n-runs', 1, '--max-episode-len', 10,
                         '--saliency', 'greydanus', '--composite',
                         '--record-rollout', rollout,
                         '--video-dir', videos]) == 0
    assert read_mp4(videos / 'episode-000-composite.mp4').shape[0] == 10
    out = tmp_path / 'app'
    assert saliency_app.main(['--rollout', rollout, '--start-frame', '2',
                              '--end-frame', '4', '--method', 'guided',
                              '--out', str(out)]) == 0
    assert np.load(out / 'maps.npz')['critic'].shape == (3, 80, 80)
    report = tmp_path / 'report'
    assert faithfulness.main(['--load', imported_gru, '--frames', '4',
                              '--methods', 'guided,greydanus',
                              '--random-orderings', '1', '--interventions',
                              '--out', str(report)]) == 0
    result = json.load(open(report / 'report.json'))
    assert result['arch'] == 'GRU'


def test_the_readme_table_is_the_registrys(capsys):
    """The README's table of formats is what ``--formats`` prints from
    the registry; ``--help`` lists every registered format."""
    assert import_agent.main(['--formats']) == 0
    table = capsys.readouterr().out.strip()
    readme = open(os.path.join(os.path.dirname(__file__), '..',
                               'README.md')).read()
    assert table in readme
    helptext = import_agent.build_parser().format_help()
    for name in ('baby-a3c', 'greydanus', 'safetensors', 'chainerrl'):
        assert '| `{}` |'.format(name) in table
        assert '  {} '.format(name) in helptext


@pytest.mark.parametrize('kind', ['dqn', 'sep'])
def test_every_tool_runs_on_a_library_agent(kind, tmp_path):
    """A Stable-Baselines3 DQN (Q-values: a greedy agent) and a PPO with
    separate extractors, through the demo, the app and the report."""
    from sb3_writer import save_sb3, sb3_data, sb3_policy_state
    source = str(tmp_path / 'agent.zip')
    save_sb3(source, sb3_policy_state(np.random.default_rng(8), kind=kind),
             sb3_data())
    agent_dir = str(tmp_path / 'agent')
    assert import_agent.main([source, '--env', 'PongNoFrameskip-v4',
                              '--out', agent_dir]) == 0
    agent, info = load_agent(agent_dir)
    assert agent.act_deterministically == (kind == 'dqn')
    rollout = str(tmp_path / 'rollout.npz')
    assert run_launcher(['--demo', '--load', agent_dir, '--eval-n-runs', 1,
                         '--max-episode-len', 8, '--saliency', 'guided',
                         '--record-rollout', rollout,
                         '--video-dir', tmp_path / 'videos']) == 0
    assert read_mp4(tmp_path / 'videos' / 'episode-000-actor.mp4'
                    ).shape[0] == 8
    assert saliency_app.main(['--rollout', rollout, '--start-frame', '1',
                              '--end-frame', '3', '--method', 'sarfa',
                              '--out', str(tmp_path / 'app')]) == 0
    report = tmp_path / 'report'
    assert faithfulness.main(['--load', agent_dir, '--frames', '3',
                              '--methods', 'guided,greydanus',
                              '--random-orderings', '1', '--interventions',
                              '--out', str(report)]) == 0
    assert json.load(open(report / 'report.json'))['arch'] == info['arch']


def _chainerrl_lstm(path):
    import chainer
    from models.networks import ChainerRLA3CLSTM
    np.random.seed(9)
    chainer.serializers.save_npz(path, ChainerRLA3CLSTM(6))


@pytest.mark.parametrize('fmt', ['chainerrl', 'pfrl', 'cleanrl'])
def test_every_tool_runs_on_every_format(fmt, tmp_path):
    """ChainerRL's A3CLSTM (its faithfulness report once ended in a
    traceback), PFRL's A3C folder and CleanRL's Agent (its own protocol:
    resize before gray): demo, app and report with interventions."""
    from sb3_writer import cleanrl_state, pfrl_state
    if fmt == 'chainerrl':
        source = str(tmp_path / 'model.npz')
        _chainerrl_lstm(source)
    elif fmt == 'pfrl':
        source = str(tmp_path / 'saved')
        os.mkdir(source)
        save_zip(os.path.join(source, 'model.pt'),
                 pfrl_state(np.random.default_rng(9)))
    else:
        source = str(tmp_path / 'agent.cleanrl_model')
        save_zip(source, cleanrl_state(np.random.default_rng(9)))
    agent_dir = str(tmp_path / 'agent')
    assert import_agent.main([source, '--env', 'PongNoFrameskip-v4',
                              '--out', agent_dir]) == 0
    rollout = str(tmp_path / 'rollout.npz')
    assert run_launcher(['--demo', '--load', agent_dir, '--eval-n-runs', 1,
                         '--max-episode-len', 6, '--saliency', 'guided',
                         '--record-rollout', rollout,
                         '--video-dir', tmp_path / 'videos']) == 0
    assert saliency_app.main(['--rollout', rollout, '--start-frame', '1',
                              '--end-frame', '2', '--method', 'greydanus',
                              '--out', str(tmp_path / 'app')]) == 0
    assert faithfulness.main(['--load', agent_dir, '--frames', '2',
                              '--methods', 'guided', '--random-orderings',
                              '1', '--interventions',
                              '--out', str(tmp_path / 'report')]) == 0
