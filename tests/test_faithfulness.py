"""The faithfulness report tool end to end."""
import json
import os

import imageio.v2 as imageio
import numpy as np
import pytest

import faithfulness

SHIPPED = os.path.join(os.path.dirname(__file__), '..', 'examples', 'mygym',
                       'pretrained', 'pong')


def test_report_on_the_shipped_pong_agent(tmp_path):
    out = tmp_path / 'report'
    rc = faithfulness.main(['--load', SHIPPED, '--env', 'PongNoFrameskip-v4',
                            '--frames', '3', '--methods', 'guided,greydanus',
                            '--out', str(out), '--random-orderings', '2'])
    assert rc == 0
    report = json.loads((out / 'report.json').read_text())
    assert report['frames'] == 3 and report['env'] == 'PongNoFrameskip-v4'
    assert set(report['methods']) == {'guided', 'greydanus'}
    for entry in report['methods'].values():
        assert entry['ms_per_frame'] > 0
        for map_name in ('actor', 'critic'):
            metrics = entry[map_name]
            assert list(metrics['randomization_spearman']) == [
                'heads', 'fc', 'conv3', 'conv2', 'conv1']
            for key in ('deletion_auc', 'deletion_auc_random',
                        'insertion_auc', 'insertion_auc_random',
                        'cross_frame_spearman'):
                assert isinstance(metrics[key], float), key
            pointing = metrics['pointing']
            assert set(pointing) >= {'ball', 'player', 'enemy', 'any',
                                     'chance_hit_rate'}
            assert set(pointing['player']) >= {'mass_ratio', 'hit_rate'}
    # The random baseline does not depend on the method.
    assert report['methods']['guided']['actor']['deletion_auc_random'] == \
        report['methods']['greydanus']['actor']['deletion_auc_random']
    text = (out / 'report.md').read_text()
    for picture in ('randomization.png', 'curves.png', 'examples-guided.png',
                    'examples-greydanus.png'):
        assert '({})'.format(picture) in text
        assert (out / picture).read_bytes()[:4] == b'\x89PNG'


def test_report_on_an_lstm_rollout(lstm_rollout, tmp_path):
    out = tmp_path / 'lstm'
    rc = faithfulness.main(['--load', json.loads(str(np.load(
        lstm_rollout)['meta']))['checkpoint'], '--rollout', lstm_rollout,
        '--stride', '6', '--methods', 'gradient', '--out', str(out)])
    assert rc == 0
    report = json.loads((out / 'report.json').read_text())
    assert report['frames'] == 5
    metrics = report['methods']['gradient']['actor']
    assert list(metrics['randomization_spearman']) == [
        'heads', 'lstm', 'conv4', 'conv3', 'conv2', 'conv1']
    assert set(metrics['pointing']) >= {'ball', 'paddle'}


@pytest.mark.parametrize('argv,message', [
    (['--env', 'PongNoFrameskip-v4', '--methods', 'guided,nope'],
     'unknown method nope'),
    (['--env', 'PongNoFrameskip-v4'], '--env needs --frames'),
    (['--env', 'NoSuchGame-v4', '--frames', '2'], 'NoSuchGame'),
    (['--rollout', '/nonexistent.npz'], 'no rollout file'),
    (['--env', 'TennisNoFrameskip-v4', '--frames', '2',
      '--interventions'], "no RAM table for 'tennis'"),
])
def test_bad_input_is_one_line_and_status_2(argv, message, tmp_path,
                                            capsys):
    rc = faithfulness.main(['--load', SHIPPED, '--out', str(tmp_path)]
                           + argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert message in err and len(err.splitlines()) == 1


def test_missing_checkpoint_is_refused(tmp_path, capsys):
    rc = faithfulness.main(['--load', str(tmp_path / 'none'), '--env',
                            'PongNoFrameskip-v4', '--frames', '2', '--out',
                            str(tmp_path / 'out')])
    assert rc == 2
    assert 'no checkpoint' in capsys.readouterr().err


def test_interventions_add_their_measures_beside_a_random_baseline(tmp_path):
    out = tmp_path / 'report'
    rc = faithfulness.main(['--load', SHIPPED, '--env', 'PongNoFrameskip-v4',
                            '--frames', '12', '--methods', 'guided',
                            '--out', str(out), '--random-orderings', '1',
                            '--interventions'])
    assert rc == 0
    section = json.loads((out / 'report.json').read_text())['interventions']
    counts = section['counts']
    assert sum(counts.values()) == 12 and counts['kept'] >= 3
    assert section['counts_by_object'] == {'ball': counts}
    assert set(section['effect']) == {'kl', 'action_changed',
                                      'value_change', 'by_object'}
    for map_name in ('actor', 'critic'):
        entry = section['guided'][map_name]
        assert set(entry) == {'follow', 'follow_random', 'peak_follow',
                              'peak_follow_random', 'vanish',
                              'vanish_random', 'agreement'}
        assert entry['follow'] > entry['follow_random']
    text = (out / 'report.md').read_text()
    assert '## Interventions' in text
    # Under 12 kept interventions no verdict is called; the sample is said.
    assert '- **guided**: too few interventions ({} kept, 12 needed).'.format(
        counts['kept']) in text
    assert '**agreement**: the Spearman correlation' in text      # defined
    assert section['example']['object'] == 'ball'
    # The pictured intervention changed the policy most of all: at least
    # as much as each kind of intervention did on average.
    for effect in section['effect']['by_object'].values():
        assert section['example']['kl'] >= effect['kl']
    assert '![one intervention](intervention.png)' in text
    picture = imageio.imread(out / 'intervention.png')
    assert picture.ndim == 3 and picture.shape[1] > 600


def test_interventions_need_the_emulator(lstm_rollout, tmp_path, capsys):
    rc = faithfulness.main(['--load', SHIPPED, '--rollout', lstm_rollout,
                            '--out', str(tmp_path / 'r'), '--interventions'])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and '--interventions needs --env' in err


def _figures(value, skip=('seconds', 'ms_per_frame')):
    """The report's figures as a flat {path: value}, timings left out."""
    out = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                out.update({key + '.' + k: v
                            for k, v in _figures(item).items()})
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.update({'{}.{}'.format(i, k): v
                        for k, v in _figures(item).items()})
    else:
        out[''] = value
    return out


def test_the_report_on_a_dask_cluster_equals_the_local_one(tmp_path):
    argv = ['--load', SHIPPED, '--env', 'PongNoFrameskip-v4', '--frames',
            '4', '--methods', 'greydanus', '--random-orderings', '1',
            '--seed', '0']
    assert faithfulness.main(argv + ['--out', str(tmp_path / 'local')]) == 0
    assert faithfulness.main(argv + ['--out', str(tmp_path / 'dask'),
                                     '--cluster', 'local:2']) == 0
    local, dask = (_figures(json.loads((tmp_path / n / 'report.json')
                                       .read_text()))
                   for n in ('local', 'dask'))
    assert set(local) == set(dask)
    assert any('randomization_spearman.conv1' in k for k in local)
    for key, value in local.items():
        if isinstance(value, float):
            assert dask[key] == pytest.approx(value, rel=1e-5, abs=1e-6,
                                              nan_ok=True), key
        elif key != 'out.':
            assert dask[key] == value, key
