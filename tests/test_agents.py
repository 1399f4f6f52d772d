"""The suite's networks, and building and loading agents."""
import json
import os
import shutil

import numpy as np
import pytest

from models import networks
from agents import build_agent, load_agent
from models.networks import A3CLSTMCNN, phi
from models.checkpoint import CheckpointError

PONG = os.path.join(os.path.dirname(__file__), '..',
                    'examples', 'mygym',
                    'pretrained', 'pong')


def test_phi_scales_to_unit_range():
    obs = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    np.testing.assert_allclose(phi(obs),
                               [[[0, 1], [0.2, 0.4]]], rtol=1e-6)
    assert phi(obs).dtype == np.float32


def test_load_reaches_the_weights_that_training_updates(trained_run):
    checkpoint = os.path.join(trained_run, '200_finish')
    saved = np.load(os.path.join(checkpoint, 'model.npz'))
    agent, _ = load_agent(checkpoint)
    for model in (agent.model, agent.shared_model):
        for name, param in model.namedparams():
            np.testing.assert_array_equal(param.array, saved[name[1:]])


def test_lstm_network_shapes_and_preprocessing():
    model = A3CLSTMCNN(4)
    policy, value = model.pi_and_v(np.zeros((2, 1, 80, 80), np.float32))
    assert policy.logits.shape == (2, 4) and value.shape == (2, 1)
    assert model.lstm.state_size == 256
    assert [c.W.shape for c in model.convs] == [(32, 1, 3, 3)] + [
        (32, 32, 3, 3)] * 3
    rgb = np.zeros((210, 160, 3), dtype=np.uint8)
    rgb[35:195, :, 0] = 240                 # mean over RGB: 80
    rgb[:35] = 255                          # cropped away
    out = networks.ARCHS['LSTM'].make_preprocessor()(rgb)
    assert out.shape == (80, 80) and (out == 80).all()


def test_load_agent_takes_what_the_checkpoint_holds(trained_run):
    agent, info = load_agent(os.path.join(trained_run, '200_finish'))
    assert info == {'env': 'PongNoFrameskip-v4', 'arch': 'FFSoftmax',
                    'n_actions': 6, 'frame_buffer_length': 4, 'steps': 200,
                    'optimizer': 'rmsprop'}
    assert agent.global_step == 200


@pytest.mark.parametrize('arch', ['FFSoftmax', 'FFSoftmaxMini', 'LSTM'])
def test_weights_only_folder_gives_its_sizes(tmp_path, arch):
    n_frames = None if arch == 'LSTM' else 3
    fresh = build_agent(arch, 5, n_frames)
    fresh.save(str(tmp_path / 'full'))
    bare = tmp_path / 'bare'
    bare.mkdir()
    shutil.copy(tmp_path / 'full' / 'model.npz', bare)
    agent, info = load_agent(str(bare), arch=arch)
    assert info['n_actions'] == 5 and info['env'] is None
    assert info['frame_buffer_length'] == (1 if arch == 'LSTM' else 3)
    for (name, a), (_, b) in zip(agent.model.namedparams(),
                                 fresh.model.namedparams()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=name)


def test_the_shipped_agent_loads_without_arguments():
    agent, info = load_agent(PONG)
    assert (info['arch'], info['n_actions'], info['env']) == (
        'FFSoftmax', 6, 'PongNoFrameskip-v4')
    assert info['steps'] == json.load(open(os.path.join(
        PONG, 'checkpoint.json')))['steps']


@pytest.mark.parametrize('kwargs,needle', [
    ({'arch': 'LSTM'}, 'has arch=FFSoftmax but this run needs arch=LSTM'),
    ({'n_actions': 4}, 'has n_actions=6 but this run needs n_actions=4'),
    ({'frame_buffer_length': 2}, 'frame_buffer_length=4 but this run '),
    ({'env': 'BreakoutNoFrameskip-v4'},
     'was trained on PongNoFrameskip-v4, this run plays Breakout'),
])
def test_load_agent_refuses_what_does_not_fit(kwargs, needle):
    with pytest.raises(CheckpointError, match=needle):
        load_agent(PONG, **kwargs)


def test_load_agent_on_broken_folders(tmp_path):
    with pytest.raises(CheckpointError, match='no checkpoint folder'):
        load_agent(str(tmp_path / 'missing'))
    with pytest.raises(CheckpointError, match='no model.npz'):
        load_agent(str(tmp_path))
    (tmp_path / 'checkpoint.json').write_text('{"arch": ')
    with pytest.raises(CheckpointError, match='cannot read'):
        load_agent(str(tmp_path))
    (tmp_path / 'checkpoint.json').write_text('[1, 2]')
    with pytest.raises(CheckpointError, match='not a JSON object'):
        load_agent(str(tmp_path))


def test_stacked_frames():
    assert networks.stacked_frames('FFSoftmax') == 4
    assert networks.stacked_frames('FFSoftmax', 2) == 2
    assert networks.stacked_frames('LSTM') == 1
    with pytest.raises(ValueError, match='sees 1 frame'):
        networks.stacked_frames('LSTM', 4)


def test_another_id_of_the_same_game_or_an_explicit_yes_loads():
    _, info = load_agent(PONG, env='ALE/Pong-v5')
    assert info['env'] == 'ALE/Pong-v5'
    _, info = load_agent(PONG, env='Boxing-v0', allow_other_game=True)
    assert info['env'] == 'Boxing-v0'
