"""Incremental perturbation scoring against the dense engine.

The incremental pass recomputes only what each mask changes; its scores
must equal the dense pass's to float32 rounding: relative 1e-5 of the
scores' own scale, on real frames of the shipped agents, on masks at the
frame's border and on random networks and masks.
"""
import os

import numpy as np
import pytest

from agents import environment_for, load_agent
from common import cli
from kernels import engine, incremental
from models.networks import ARCHS, A3CFF, ChainerRLA3CFF
from models.recurrent_state import state_size
from saliency import make_saliency
from saliency import scoring as scoring_module
from saliency.scoring import check_scoring

PRETRAINED = os.path.join(os.path.dirname(__file__), '..', '..',
                          'examples', 'mygym', 'pretrained')


def _close(got, want, rel=1e-5):
    """Equal to ``rel`` of the values' own scale."""
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=0, atol=rel * scale)


@pytest.fixture(scope='module', params=['pong', 'breakout-lstm'])
def shipped(request):
    """A shipped agent's model and two real frames of its game."""
    agent, info = load_agent(os.path.join(PRETRAINED, request.param))
    env = environment_for(info, seed=0)
    obs, frames = env.reset(), []
    rng = np.random.RandomState(0)
    for t in range(60):
        obs, _, done, _ = env.step(rng.randint(env.n_actions))
        if done:
            obs = env.reset()
        if t % 30 == 29:
            frames.append(np.asarray(agent.phi(obs), np.float32))
    env.close()
    return agent.model, frames


@pytest.mark.parametrize('name', ['greydanus', 'occlusion', 'sarfa',
                                  'occlusion-blur', 'rise'])
def test_real_frames_score_as_the_dense_engine(shipped, name):
    model, frames = shipped
    dense = make_saliency(name, model=model, scoring='dense')
    forced = make_saliency(name, model=model, scoring='incremental')
    auto = make_saliency(name, model=model)
    run = engine.engine_for(model)
    state = np.zeros(2 * 256, np.float32) if model.recurrent else None
    for frame in frames:
        keep, fill = dense.masks_and_fill(frame)
        want = run.masked(frame, keep, fill, state)
        got = run.incremental().masked(frame, keep, fill, state)
        _close(got[0], want[0])
        _close(got[1], want[1])
        x = frame[None]
        reference = dense(model, x, state)
        for method in (forced, auto):
            result = method(model, x, state)
            _close(result.actor, reference.actor)
            _close(result.critic, reference.critic)


def _border_masks(size):
    """Windows in the corners and along the edges, a mask that keeps
    everything and one that perturbs one corner pixel."""
    masks = []
    for top, left, h, w in [(0, 0, 5, 5), (0, size - 7, 7, 7),
                            (size - 3, 0, 3, 9), (size - 6, size - 6, 6, 6),
                            (0, 30, 1, 20), (40, size - 1, 12, 1),
                            (0, 0, size, 2)]:
        keep = np.ones((size, size), np.float32)
        keep[top:top + h, left:left + w] = 0
        masks.append(keep)
    masks.append(np.ones((size, size), np.float32))
    corner = np.ones((size, size), np.float32)
    corner[-1, -1] = 0.5
    masks.append(corner)
    return np.stack(masks)


def test_masks_at_the_border(shipped):
    model, frames = shipped
    frame = frames[0]
    keep = _border_masks(frame.shape[1])
    fill = np.full_like(frame, 0.8)
    run = engine.engine_for(model)
    want = run.masked(frame, keep, fill)
    got = run.incremental().masked(frame, keep, fill)
    _close(got[0], want[0])
    _close(got[1], want[1])
    # The mask that keeps everything scores as the frame itself.
    base = run(frame[None])
    _close(got[0][-2], base[0][0])


@pytest.mark.parametrize('arch', ['FFSoftmax', 'LSTM', 'GRU', 'ChainerRLFF',
                                  'ChainerRLLSTM', 'NatureAC', 'NatureQ',
                                  'NatureAC2'])
def test_random_networks_and_masks(arch):
    rng = np.random.RandomState(4)
    model = ARCHS[arch].make_model(5, ARCHS[arch].frames or 4)
    for param in model.params():
        param.array[...] = rng.normal(
            scale=0.2, size=param.shape).astype(np.float32)
    model.weights_changed()
    size = model.input_size
    channels = model.structure.convs[0].W.shape[1]
    frame = rng.rand(channels, size, size).astype(np.float32)
    # Flat regions where a blurred fill equals the frame: masks there
    # change nothing.
    frame[:, 30:60, 10:50] = 0.5
    fill = frame.copy()
    fill[:, :30] = rng.rand(channels, 30, size)
    keep = np.ones((40, size, size), np.float32)
    for k in range(40):
        top, left = rng.randint(0, size - 4, 2)
        h, w = rng.randint(1, 24, 2)
        keep[k, top:top + h, left:left + w] = rng.rand(
            *keep[k, top:top + h, left:left + w].shape)
    state = (rng.normal(size=state_size(model)) * 0.3).astype(
        np.float32) if model.recurrent else None
    run = engine.engine_for(model)
    want = run.masked(frame, keep, fill, state)
    got = run.incremental().masked(frame, keep, fill, state)
    _close(got[0], want[0])
    _close(got[1], want[1])


def test_sub_batches_and_threads_give_the_same_scores(shipped):
    """One thread or two, every mask at once or eight at a time."""
    model, frames = shipped
    method = make_saliency('greydanus', model=model)
    keep, fill = method.masks_and_fill(frames[1])
    run = engine.engine_for(model)
    one = incremental.Incremental(
        model, lambda graph, n: engine.session(graph, 'cpu', n), 1)
    many = incremental.Incremental(
        model, lambda graph, n: engine.session(graph, 'cpu', n), 2)
    many.sub_batch = 8
    want = run.masked(frames[1], keep, fill)
    for scorer in (one, many):
        got = scorer.masked(frames[1], keep, fill)
        _close(got[0], want[0])


def test_local_masks_choose_the_incremental_pass(shipped, monkeypatch):
    model, frames = shipped
    scorer = engine.engine_for(model).incremental()
    calls = []
    real = scorer.masked
    monkeypatch.setattr(scorer, 'masked',
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    chosen = {}
    for name in ('occlusion', 'rise'):
        method = make_saliency(name, model=model)
        keep, fill = method.masks_and_fill(frames[0])
        plan = scorer.plan(frames[0], keep, fill)
        chosen[name] = incremental.worthwhile(plan)
        before = len(calls)
        method(model, frames[0][None])
        assert (len(calls) > before) == chosen[name]
    # Occlusion's 5x5 windows are local; RISE's masks cover the frame.
    assert chosen == {'occlusion': True, 'rise': False}


def test_estimated_shares_on_the_feed_forward_agent():
    """Occlusion's windows change far less of the network than Greydanus'
    blobs (whose blurred fill differs from a Pong frame near every edge),
    and those far less than RISE's masks; the automatic choice takes the
    incremental pass for the first two (docs/incremental.md)."""
    agent, info = load_agent(os.path.join(PRETRAINED, 'pong'))
    env = environment_for(info, seed=0)
    obs = env.reset()
    for t in range(60):
        obs = env.step(t % env.n_actions)[0]
    env.close()
    frame = np.asarray(agent.phi(obs), np.float32)
    scorer = engine.engine_for(agent.model).incremental()
    shares = {}
    for name in ('occlusion', 'greydanus', 'rise'):
        keep, fill = make_saliency(name, model=agent.model).masks_and_fill(
            frame)
        shares[name] = scorer.plan(frame, keep, fill).share
    assert 0 < shares['occlusion'] < shares['greydanus'] \
        < incremental.THRESHOLD < 0.5 < shares['rise']


def test_scoring_values_are_checked():
    with pytest.raises(ValueError, match='unknown scoring'):
        make_saliency('greydanus', scoring='fast')
    with pytest.raises(ValueError, match='CPU'):
        check_scoring('incremental', device='cuda')
    with pytest.raises(ValueError, match="suite's own"):
        make_saliency('occlusion', model=A3CFF(4, mellowmax=True),
                      scoring='incremental')
    # Dense and automatic scoring run any model; imported networks run
    # incrementally too.
    make_saliency('occlusion', model=A3CFF(4, mellowmax=True))
    make_saliency('occlusion', model=ChainerRLA3CFF(4),
                  scoring='incremental')
    assert scoring_module.SCORINGS == cli.SCORINGS == (
        'auto', 'dense', 'incremental')
