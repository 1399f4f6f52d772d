import numpy as np
import pytest

from env_gym_chainer import (FramePreprocessor, GymEnvironment,
                             UnknownGameError, check_atari_id, luminance)
from train_a3c_gym import training_reward_filter


def test_luminance_uses_bt709_weights():
    pixels = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255],
                       [10, 20, 30]], dtype=np.uint8)
    np.testing.assert_allclose(
        luminance(pixels),
        [0.2126 * 255, 0.7152 * 255, 0.0722 * 255,
         0.2126 * 10 + 0.7152 * 20 + 0.0722 * 30], rtol=1e-6)


def test_preprocessor_on_a_hand_made_frame():
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    rgb[:2, :2] = (100, 100, 100)      # gray: luminance 100
    rgb[2:, 2:] = (0, 255, 0)          # green: 0.7152 * 255 = 182.4
    out = FramePreprocessor(size=2)(rgb)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[100, 0], [0, 182]])
    mean = FramePreprocessor(size=2, gray='mean', crop_rows=(2, 4))(rgb)
    # Rows 2..3 are [0, 0, g, g] with mean(0, 255, 0) = 85 in g.
    np.testing.assert_array_equal(mean, [[0, 85], [0, 85]])


def test_reward_filter_trims_scales_and_clips():
    f = training_reward_filter(min_reward=-0.5, scale=0.5)
    assert [f(r) for r in (-1.0, -0.5, 0.0, 1.0, 4.0)] == [
        0.0, -0.25, 0.0, 0.5, 1.0]
    g = training_reward_filter(min_reward=None, scale=1.0)
    assert [g(r) for r in (-3.0, 2.0)] == [-1.0, 1.0]


@pytest.mark.parametrize('env_id,n_actions', [
    ('Pong-v0', 6), ('PongNoFrameskip-v4', 6), ('ALE/Pong-v5', 6),
    ('Boxing-v0', 18), ('BreakoutNoFrameskip-v4', 4)])
def test_accepts_the_ids_users_type(env_id, n_actions):
    env = GymEnvironment(env_id, seed=0)
    obs = env.reset()
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.n_actions == n_actions
    obs, reward, done, info = env.step(0)
    assert obs.shape == (4, 84, 84)
    assert env.rgb_frame.shape == (210, 160, 3)
    assert set(info) == {'needs_reset'}
    env.close()


@pytest.mark.parametrize('env_id', ['Foo-v0', 'Pongg-v4', 'CartPole-v1'])
def test_unknown_or_non_atari_ids_are_refused(env_id):
    with pytest.raises(UnknownGameError):
        check_atari_id(env_id)


def _rollout(env, actions):
    frames = [env.reset()]
    rewards = []
    for a in actions:
        obs, r, done, info = env.step(a)
        frames.append(obs)
        rewards.append(r)
    return np.stack(frames), rewards


def test_frames_stack_newest_last():
    env = GymEnvironment('PongNoFrameskip-v4', frame_buffer_length=3,
                         seed=3)
    first = env.reset()
    assert first.shape == (3, 84, 84)
    assert (first == first[-1]).all()          # filled with the first frame
    prev = first
    for a in [2, 3, 2, 3, 0, 1] * 5:
        obs, _, _, _ = env.step(a)
        np.testing.assert_array_equal(obs[:-1], prev[1:])
        # The newest frame is the preprocessed raw frame kept for rendering.
        np.testing.assert_array_equal(obs[-1],
                                      env.preprocessor(env.rgb_frame))
        prev = obs
    assert not (prev[0] == prev[-1]).all()     # the game moved
    env.close()


def test_same_seed_same_game_other_seed_other_game():
    actions = list(np.random.RandomState(0).randint(0, 6, 60))
    a = GymEnvironment('Pong-v0', seed=7)      # sticky actions: seed matters
    b = GymEnvironment('Pong-v0', seed=7)
    c = GymEnvironment('Pong-v0', seed=8)
    frames_a, rewards_a = _rollout(a, actions)
    frames_b, rewards_b = _rollout(b, actions)
    frames_c, _ = _rollout(c, actions)
    np.testing.assert_array_equal(frames_a, frames_b)
    assert rewards_a == rewards_b
    assert not np.array_equal(frames_a, frames_c)
    # reset(seed=...) on a used environment replays the same game.
    again, _ = _rollout_with_seed(a, 7, actions)
    np.testing.assert_array_equal(again, frames_a)


def _rollout_with_seed(env, seed, actions):
    frames = [env.reset(seed=seed)]
    for a in actions:
        frames.append(env.step(a)[0])
    return np.stack(frames), None


def test_truncation_sets_needs_reset_not_done():
    env = GymEnvironment('PongNoFrameskip-v4', seed=0, noop_max=0,
                         max_frames_per_episode=100)
    env.reset()
    for step in range(1, 40):
        _, _, done, info = env.step(0)
        if info['needs_reset']:
            break
    assert step == 25            # 100 frames / frame skip 4
    assert not done
    env.close()


def test_noop_starts_depend_on_seed_and_can_be_disabled():
    plain = [GymEnvironment('PongNoFrameskip-v4', seed=s, noop_max=0)
             .reset() for s in (1, 2)]
    np.testing.assert_array_equal(plain[0], plain[1])
    starts = [GymEnvironment('PongNoFrameskip-v4', seed=s).reset()
              for s in range(6)]
    assert len({s.tobytes() for s in starts}) > 1


@pytest.mark.parametrize('preprocessor', [FramePreprocessor(84),
                                          FramePreprocessor(80, (35, 195),
                                                            'mean')])
def test_luma_frame_is_the_luminance_of_the_rgb_frame(preprocessor):
    env = GymEnvironment('BreakoutNoFrameskip-v4', frame_buffer_length=1,
                         preprocessor=preprocessor, seed=3)
    env.reset()
    for action in (1, 2, 2, 3, 0, 2):
        env.step(action)
        luma = env.luma_frame
        assert luma.shape == (210, 160) and luma.dtype == np.uint8
        np.testing.assert_array_equal(
            luma, np.clip(np.rint(luminance(env.rgb_frame)), 0, 255))
        assert env.luma_frame is luma          # computed once a step
    env.close()


def _noops_until(env, stop, limit):
    for t in range(limit):
        _, _, done, _ = env.step(0)
        if stop(done):
            return t + 1
    return None


def test_breakout_waits_for_fire_unless_every_life_starts_with_it():
    plain = GymEnvironment('BreakoutNoFrameskip-v4', seed=1, noop_max=0)
    plain.reset()
    # Without FIRE the ball never comes: no life is lost.
    assert _noops_until(plain, lambda done: plain.emulator.ale.lives() < 5,
                        600) is None
    plain.close()
    fired = GymEnvironment('BreakoutNoFrameskip-v4', seed=1, noop_max=0,
                           fire_on_new_life=True)
    fired.reset()
    # Every life is served: doing nothing loses all five, then the game.
    steps = _noops_until(fired, lambda done: done, 3000)
    assert steps is not None and fired.emulator.ale.lives() == 0
    fired.close()


def test_episodic_life_ends_the_episode_and_the_game_goes_on():
    env = GymEnvironment('BreakoutNoFrameskip-v4', seed=2, noop_max=0,
                         episodic_life='auto', fire_on_new_life='auto')
    env.reset()
    assert _noops_until(env, lambda done: done, 600) is not None
    assert env.emulator.ale.lives() == 4 and not env.emulator.ale.game_over()
    obs = env.reset()                       # the same game, next life
    assert env.emulator.ale.lives() == 4 and obs.shape == (4, 84, 84)
    assert (obs[0] == obs[-1]).all()        # a fresh frame stack
    assert _noops_until(env, lambda done: done, 600) is not None
    assert env.emulator.ale.lives() == 3
    env.close()


def test_pong_has_no_life_rules():
    env = GymEnvironment('PongNoFrameskip-v4', seed=3,
                         episodic_life='auto', fire_on_new_life='auto')
    env.reset()
    assert not env.rules.applies('auto')
    env.close()


def test_a_stack_of_zeros_and_a_new_stack_at_a_lost_life():
    """Stable-Baselines3's protocol: a reset leaves zeros in the older
    slots; a lost life restarts the stack the same way while the game goes
    on (one episode is a whole game)."""
    env = GymEnvironment('BreakoutNoFrameskip-v4', seed=1, noop_max=0,
                         fire_on_new_life='auto', stack_fill='zeros',
                         life_loss='new_stack')
    obs = env.reset()
    assert (obs[:3] == 0).all() and obs[3].max() > 0
    lives, restarts, steps, since = env.emulator.ale.lives(), 0, 0, 0
    while restarts < 2 and steps < 3000:
        obs, _, done, _ = env.step(0)           # never moves: loses lives
        steps, since = steps + 1, since + 1
        assert not done or env.emulator.ale.game_over()
        if env.emulator.ale.lives() < lives:
            lives, since = env.emulator.ale.lives(), 0
            assert (obs[:3] == 0).all(), 'the stack restarts'
            restarts += 1
        elif since > 3:
            assert obs[0].max() > 0             # otherwise frames stack up
    assert restarts == 2
    env.close()


def test_resize_first_is_cleanrls_order():
    """Each colour channel box-filtered to 84x84 and rounded, then gray:
    one output pixel computed by hand on a real frame."""
    env = GymEnvironment('PongNoFrameskip-v4', seed=2, noop_max=0)
    env.reset()
    for _ in range(30):
        env.step(2)
    rgb = env.rgb_frame.astype(np.float64)
    env.close()
    pre = FramePreprocessor(84, gray='bt601', resize_first=True)
    out = pre(env.rgb_frame)
    # Output (40, 41): rows 100..102.5 (2.5 per pixel), columns
    # 78.095..79.999 (160 / 84 per pixel), each input pixel weighted by
    # its overlap.
    r0, r1 = 40 * 210 / 84, 41 * 210 / 84
    c0, c1 = 41 * 160 / 84, 42 * 160 / 84
    total = np.zeros(3)
    for y in range(int(r0), int(np.ceil(r1))):
        wy = min(y + 1, r1) - max(y, r0)
        for x in range(int(c0), int(np.ceil(c1))):
            wx = min(x + 1, c1) - max(x, c0)
            total += wy * wx * rgb[y, x]
    channels = np.rint(total / ((r1 - r0) * (c1 - c0)))
    gray = np.rint(channels @ [0.299, 0.587, 0.114])
    assert out[40, 41] == gray
    assert (out != FramePreprocessor(84, gray='bt601')(env.rgb_frame)).any()


@pytest.mark.parametrize('env_id,setting,frames', [
    ('BreakoutNoFrameskip-v4', 'fire_reset', 8),
    ('BreakoutNoFrameskip-v4', 'auto', 4),
    ('PongNoFrameskip-v4', 'fire_reset', 8),     # FIRE, lives or not
    ('PongNoFrameskip-v4', 'auto', 0)])
def test_fire_reset_is_stable_baselines3s(env_id, setting, frames):
    """FireResetEnv: FIRE then action 2, one 4-frame step each, after the
    reset; after a lost life (EpisodicLifeEnv) one no-op step first."""
    env = GymEnvironment(env_id, seed=1, noop_max=0,
                         fire_on_new_life=setting)
    env.reset()
    assert env.emulator.ale.getEpisodeFrameNumber() == frames
    if env_id.startswith('Breakout'):
        lives = env.emulator.ale.lives()
        for _ in range(2000):
            before = env.emulator.ale.getEpisodeFrameNumber()
            env.step(0)
            if env.emulator.ale.lives() < lives:
                break
        spent = env.emulator.ale.getEpisodeFrameNumber() - before
        assert spent == 4 + {'fire_reset': 12, 'auto': 4}[setting]
    env.close()


@pytest.mark.parametrize('typed', ['pong', 'Pong', 'ALE/pong', 'PONG-v4'])
def test_an_unknown_id_names_the_ids_of_its_game(typed):
    """One line that says which ids exist for the game, not gymnasium's
    own hints ("Did you mean: Pong?", then another unknown id)."""
    with pytest.raises(UnknownGameError) as e:
        check_atari_id(typed)
    message = str(e.value)
    assert 'PongNoFrameskip-v4' in message and 'ALE/Pong-v5' in message
    assert 'Did you mean' not in message and '\n' not in message
    with pytest.raises(UnknownGameError, match='no ALE game of that name'):
        check_atari_id('NoSuchGame-v4')
