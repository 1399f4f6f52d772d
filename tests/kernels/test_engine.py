"""The ONNX Runtime engine against the Chainer models it was built from."""
import os

import chainer
import numpy as np
import pytest

from kernels import engine
from agents import build_agent, load_agent
from models.networks import A3CFF, A3CLSTMCNN
from evaluation.metrics import randomized
from iclr_acer_link import ICLRACERHeadMini
from models.networks import ARCHS
from models.recurrent_state import restore, state_size
from saliency.scoring import masked_inputs

SHIPPED = os.path.join(os.path.dirname(__file__), '..', '..',
                       'examples', 'mygym',
                       'pretrained', 'pong')


def _chainer(model, x, state=None):
    restore(model, state, batch_size=len(x))
    with chainer.no_backprop_mode(), chainer.using_config('train', False):
        policy, value = model.pi_and_v(x)
    return policy.logits.array, value.array[:, 0]


def _close(got, want, atol=2e-6):
    """Equal to float32 rounding of the values' own scale."""
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=0, atol=atol * scale)


@pytest.mark.parametrize('which', ['shipped', 'mini'])
def test_feed_forward_scores_equal_chainer(which):
    if which == 'shipped':
        model = load_agent(SHIPPED)[0].model
        x = np.random.RandomState(0).rand(7, 4, 84, 84).astype(np.float32)
    else:
        model = A3CFF(5, 3, head_class=ICLRACERHeadMini)
        x = np.random.RandomState(1).rand(7, 3, 60, 60).astype(np.float32)
    scores, values = engine.Engine(model)(x)
    want_scores, want_values = _chainer(model, x)
    assert scores.shape == want_scores.shape and values.shape == (7,)
    _close(scores, want_scores)
    _close(values, want_values)


@pytest.mark.parametrize('arch', ['GRU', 'ChainerRLFF', 'ChainerRLLSTM',
                                  'LSTM', 'FFSoftmax', 'NatureAC',
                                  'NatureQ', 'NatureAC2'])
def test_every_network_kind_steps_as_chainer(arch):
    """The graph is read from each network's declared structure: scores,
    values and the next state equal Chainer's from a given state."""
    rng = np.random.RandomState(5)
    model = ARCHS[arch].make_model(5, ARCHS[arch].frames or 4)
    for param in model.params():
        param.array[...] = rng.normal(scale=0.1, size=param.shape)
    model.weights_changed()
    st = model.structure
    x = rng.rand(3, st.convs[0].W.shape[1], model.input_size,
                 model.input_size).astype(np.float32)
    flat = (rng.normal(size=state_size(model)) * 0.5).astype(np.float32)
    parts = [np.repeat(p[None], 3, 0)
             for p in np.split(flat, max(1, len(st.state_layout)))]
    out = engine.Engine(model)(x, parts if model.recurrent else None)
    want_scores, want_values = _chainer(model, x, flat if model.recurrent
                                        else None)
    _close(out[0], want_scores, 1e-5)
    _close(out[1], want_values, 1e-5)
    if model.recurrent:
        assert len(out[2]) == len(st.state_layout)
        for name, got in zip(st.state_layout, out[2]):
            _close(got, getattr(st.cell_link, name).array, 1e-5)


def test_lstm_step_equals_chainer_from_a_given_state():
    model = A3CLSTMCNN(4)
    rng = np.random.RandomState(2)
    x = rng.rand(5, 1, 80, 80).astype(np.float32)
    flat = (rng.normal(size=512) * 0.5).astype(np.float32)
    c, h = np.split(flat, 2)
    run = engine.Engine(model)
    scores, values, (c_next, h_next) = run(
        x, (np.repeat(c[None], 5, 0), np.repeat(h[None], 5, 0)))
    want_scores, want_values = _chainer(model, x, flat)
    _close(scores, want_scores)
    _close(values, want_values)
    _close(c_next, model.lstm.c.array)
    _close(h_next, model.lstm.h.array)
    # None is the zero state, as recurrent_state.restore has it.
    zero_scores, _, _ = run(x)
    _close(zero_scores, _chainer(model, x, None)[0])
    assert not np.allclose(zero_scores, scores)


def test_masked_inputs_score_as_in_chainer():
    model = A3CLSTMCNN(3)
    rng = np.random.RandomState(3)
    state = rng.rand(1, 80, 80).astype(np.float32)
    keep = (rng.rand(6, 80, 80) > 0.3).astype(np.float32)
    fill = np.float32(0.25)
    flat = (rng.normal(size=512) * 0.3).astype(np.float32)
    scores, values = engine.engine_for(model).masked(state, keep, fill, flat)
    want_scores, want_values = _chainer(
        model, masked_inputs(state, keep, fill), flat)
    _close(scores, want_scores)
    _close(values, want_values)


def test_engine_is_cached_and_follows_weight_changes():
    model = A3CFF(4, 4)
    x = np.random.RandomState(4).rand(3, 4, 84, 84).astype(np.float32)
    first = engine.engine_for(model)
    assert engine.engine_for(model) is first
    model.pi.model.output.b.array[:] += 1.0
    # Until the model says so, the graph is the one built before.
    assert engine.engine_for(model) is first
    model.weights_changed()
    second = engine.engine_for(model)
    assert second is not first
    _close(second(x)[0], _chainer(model, x)[0])


def test_every_way_of_changing_weights_moves_the_version(tmp_path):
    """A load, a worker's re-sync and randomisation each say so."""
    agent = build_agent('FFSoftmax', 4, 4)
    agent.save(str(tmp_path / 'ckpt'))
    before = agent.model.weights_version
    agent.sync_parameters()
    assert agent.model.weights_version > before
    loaded, _ = load_agent(str(tmp_path / 'ckpt'))
    assert loaded.model.weights_version > 0
    assert loaded.shared_model.weights_version > 0
    copy = randomized(agent.model, A3CFF(4, 4), ['heads'])
    assert copy.weights_version > agent.model.weights_version


def test_models_it_cannot_run_get_none():
    class Other(chainer.Chain):
        def pi_and_v(self, state):
            raise AssertionError('not called')
    assert engine.engine_for(Other()) is None


def test_cuda_without_a_gpu_is_one_clear_error():
    import onnxruntime
    if 'CUDAExecutionProvider' in onnxruntime.get_available_providers():
        pytest.skip('this machine has the CUDA provider')
    with pytest.raises(engine.EngineError, match='onnxruntime-gpu') as e:
        engine.providers('cuda')
    assert '\n' not in str(e.value)
    with pytest.raises(engine.EngineError, match='unknown device'):
        engine.providers('tpu')


@pytest.mark.parametrize('tool', ['faithfulness', 'train_a3c_gym'])
def test_cuda_flag_without_a_gpu_exits_2(tool, tmp_path, capsys):
    import importlib
    import onnxruntime
    if 'CUDAExecutionProvider' in onnxruntime.get_available_providers():
        pytest.skip('this machine has the CUDA provider')
    argv = {'faithfulness': ['--load', SHIPPED, '--env',
                             'PongNoFrameskip-v4', '--frames', '2',
                             '--out', str(tmp_path / 'r')],
            'train_a3c_gym': ['1', '--demo', '--load', SHIPPED,
                              '--video-dir', str(tmp_path / 'v')]}[tool]
    rc = importlib.import_module(tool).main(argv + ['--device', 'cuda'])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert 'needs onnxruntime-gpu' in err
    assert not (tmp_path / 'v').exists()          # nothing made first


def test_acting_engine_follows_the_weights_without_a_rebuild():
    rng = np.random.RandomState(6)
    for model, x in ((A3CFF(4, 4),
                      rng.rand(1, 4, 84, 84).astype(np.float32)),
                     (A3CLSTMCNN(4), rng.rand(1, 1, 80, 80)
                      .astype(np.float32))):
        run = engine.ActingEngine(model)
        session = run.session
        for change in range(3):
            got = run(x)
            _close(got[0], _chainer(model, x)[0])
            _close(got[1], _chainer(model, x)[1])
            if change == 0:           # a sync: arrays changed in place
                for _, param in model.namedparams():
                    param.array[...] += 0.001
            else:                     # arrays replaced
                for _, param in model.namedparams():
                    param.array = param.array * 1.001
        assert run.session is session
    # The LSTM step hands out the next state, as Chainer's LSTM has it.
    flat = (rng.normal(size=512) * 0.5).astype(np.float32)
    c, h = np.split(flat, 2)
    _, _, (c_next, h_next) = run(x, (c[None], h[None]))
    _chainer(model, x, flat)
    _close(c_next, model.lstm.c.array)
    _close(h_next, model.lstm.h.array)


def test_networks_say_what_they_are():
    model = A3CFF(6)
    assert (model.kind, model.recurrent, model.input_size) == ('ff', False,
                                                               84)
    mini = A3CFF(6, head_class=ICLRACERHeadMini)
    assert (mini.kind, mini.input_size) == ('ff', 60)
    lstm = A3CLSTMCNN(4)
    assert (lstm.kind, lstm.recurrent, lstm.input_size) == ('lstm', True,
                                                            80)
    # Variants the engine does not run declare no kind, and get no engine.
    mellowmax = A3CFF(6, mellowmax=True)
    assert engine.model_kind(mellowmax) is None
    assert engine.engine_for(mellowmax) is None
    assert A3CLSTMCNN(4, activation=chainer.functions.relu).kind is None
    assert engine.model_kind(chainer.Chain()) is None
    # The input size drives the graph: the mini head's is 60 x 60.
    x = np.random.RandomState(0).rand(2, 4, 60, 60).astype(np.float32)
    _close(engine.engine_for(mini)(x)[0], _chainer(mini, x)[0])
