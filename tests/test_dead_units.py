"""dead_units.py: ReLU units of a head that never fire."""
import os
import shutil

import numpy as np
import pytest

import dead_units
from models.networks import A3CFF, ChainerRLA3CFF

PONG = os.path.join(os.path.dirname(__file__), '..', 'examples', 'mygym',
                    'pretrained', 'pong')


def test_counts_against_biases_that_force_the_answer():
    model = A3CFF(6)
    head = model.head
    for layer in head:
        layer.W.array[...] = 0
        layer.b.array[...] = 1.0       # every unit fires everywhere
    head[0].b.array[[3, 17]] = -1.0    # ... except two channels of conv1
    head[3].b.array[:64] = -1.0        # and a quarter of the linear layer
    x = np.random.RandomState(0).rand(5, 4, 84, 84).astype(np.float32)
    rows = dead_units.layer_activity(model, x)
    assert [name for name, _, _, _ in rows] == [
        'conv1', 'conv2', 'conv3', 'linear']
    assert [units for _, units, _, _ in rows] == [32, 64, 64, 256]
    assert [dead for _, _, dead, _ in rows] == [2, 0, 0, 64]
    assert [active for _, _, _, active in rows] == pytest.approx(
        [30 / 32, 1.0, 1.0, 0.75])


def test_the_layers_are_the_declared_ones():
    """ChainerRL's A3CFF: two convolutions and one dense layer."""
    model = ChainerRLA3CFF(4)
    x = np.random.RandomState(0).rand(2, 4, 84, 84).astype(np.float32)
    assert [(name, units) for name, units, _, _ in
            dead_units.layer_activity(model, x)] == [
        ('conv1', 16), ('conv2', 32), ('linear', 256)]


def test_a_unit_that_fires_on_one_position_of_one_frame_is_alive():
    model = A3CFF(6)
    head = model.head
    for layer in head:
        layer.b.array[...] = 1.0
    w = head[0].W.array
    w[...] = 0
    head[0].b.array[0] = -0.5
    w[0, 0, 0, 0] = 1.0                # channel 0 sees the top-left pixel
    x = np.zeros((3, 4, 84, 84), np.float32)
    x[2, 0, 0, 0] = 1.0                # lit in frame 2 only
    _, units, dead, active = dead_units.layer_activity(model, x)[0]
    assert dead == 0
    assert active == pytest.approx((31 * 3 * 400 + 1) / (32 * 3 * 400))
    x[2, 0, 0, 0] = 0.0
    assert dead_units.layer_activity(model, x)[0][2] == 1


def test_command_on_the_shipped_agent(capsys):
    assert dead_units.main([PONG, '--frames', '12']) == 0
    out = capsys.readouterr().out.splitlines()
    assert '12 frames of PongNoFrameskip-v4' in out[0]
    assert [line.split()[:2] for line in out[1:]] == [
        ['conv1', '32'], ['conv2', '64'], ['conv3', '64'], ['linear', '256']]


@pytest.mark.parametrize('argv,needle', [
    (['/no/such/folder'], 'no checkpoint folder'),
    ([PONG, '--frames', '0'], 'must be >= 1'),
    ([PONG, '--frames', '100000000'], 'must be <= 100000'),
    ([PONG, '--seed', '-3'], 'must be >= 0'),
])
def test_bad_input(capsys, argv, needle):
    assert dead_units.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err


def test_checkpoint_without_info_needs_env(capsys, tmp_path):
    # Weights only: the network loads, but nothing says which game it plays.
    shutil.copy(os.path.join(PONG, 'model.npz'), tmp_path)
    assert dead_units.main([str(tmp_path)]) == 2
    assert 'give --env' in capsys.readouterr().err
    assert dead_units.main([str(tmp_path), '--env', 'PongNoFrameskip-v4',
                            '--frames', '5']) == 0
    assert '5 frames of PongNoFrameskip-v4' in capsys.readouterr().out


def test_damaged_model_file(capsys, tmp_path):
    (tmp_path / 'model.npz').write_bytes(b'')
    assert dead_units.main([str(tmp_path), '--env', 'PongNoFrameskip-v4'
                            ]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'cannot read' in err


def test_load_and_several_inputs_each_checked_and_reported(capsys):
    """--load as every tool takes it; with several checkpoints one that
    cannot be checked is reported and the others still are."""
    assert dead_units.main(['--load', PONG, '--frames', '5']) == 0
    assert '5 frames of PongNoFrameskip-v4' in capsys.readouterr().out
    lstm = os.path.join(os.path.dirname(PONG), 'breakout-lstm')
    rc = dead_units.main(['--load', '/no/such/folder', '--load', lstm,
                          '--load', PONG, '--frames', '5'])
    out, err = capsys.readouterr()
    assert rc == 2
    assert 'no checkpoint folder at /no/such/folder' in err
    assert 'has no ReLU layers' in err
    assert '2 of 3 checkpoints could not be checked' in err
    assert '5 frames of PongNoFrameskip-v4' in out      # still checked
    assert dead_units.main(['--frames', '5']) == 2
    assert 'give a checkpoint' in capsys.readouterr().err
