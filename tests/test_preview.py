"""preview.py: steps of both videos, side by side, as a PNG or animation."""
import os
import re

import imageio.v2 as imageio
import numpy as np
from PIL import Image, ImageSequence

import preview


def test_writes_actor_left_critic_right(tmp_path, capsys):
    out = tmp_path / 'p.png'
    assert preview.main(['--step', '30', '--out', str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    picture = imageio.imread(out).astype(int)
    assert picture.shape == (444, 320 + 8 + 320, 3)    # caption band under
    actor, critic = picture[:420, :320], picture[:420, 328:]
    # Actor: map in green, luminance in red and blue; critic: map in red.
    assert (actor[..., 0] == actor[..., 2]).all()
    assert (actor[..., 1] - actor[..., 0]).max() > 100
    assert (critic[..., 1] == critic[..., 2]).all()
    assert (critic[..., 0] - critic[..., 1]).max() > 100
    np.testing.assert_array_equal(actor[..., 0], critic[..., 1])


def test_bad_input(tmp_path, capsys):
    assert preview.main(['--load', str(tmp_path / 'none')]) == 2
    (tmp_path / 'file').write_text('in the way')
    assert preview.main(['--step', '1', '--out',
                         str(tmp_path / 'file' / 'p.png')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and 'no checkpoint folder' in err[0]
    assert 'cannot write' in err[1]
    assert not list(tmp_path.glob('**/*.png*'))


def frames_of(path):
    """RGB frames (int), frame durations (ms) and loop count of an
    animation."""
    with Image.open(path) as image:
        durations = []
        frames = []
        for frame in ImageSequence.Iterator(image):
            frames.append(np.asarray(frame.convert('RGB')).astype(int))
            durations.append(frame.info.get('duration'))   # once loaded
        return frames, durations, image.info.get('loop')


def test_animation_of_consecutive_steps(tmp_path, capsys):
    """--frames 3 --stride 2 draws steps 30, 32 and 34: the same pictures
    as three stills (WebP at quality 80 is lossy: close, not equal)."""
    out = tmp_path / 'a.webp'
    assert preview.main(['--step', '30', '--frames', '3', '--stride', '2',
                         '--fps', '10', '--out', str(out)]) == 0
    assert 'steps 30..34' in capsys.readouterr().out
    frames, durations, loop = frames_of(out)
    assert len(frames) == 3 and loop == 0
    assert durations == [100, 100, 100]
    for frame, step in zip(frames, (30, 32, 34)):
        still = tmp_path / 's{}.png'.format(step)
        assert preview.main(['--step', str(step), '--out', str(still)]) == 0
        assert frame.shape == (444, 648, 3)
        error = np.abs(frame - imageio.imread(still).astype(int))
        assert error.mean() < 3, step
    # The game moves between the drawn steps.
    assert np.abs(frames[0] - frames[2]).max() > 100


def test_gif_keeps_the_channels(tmp_path):
    out = tmp_path / 'a.gif'
    assert preview.main(['--step', '30', '--frames', '2', '--video-scale',
                         '1', '--out', str(out)]) == 0
    frames, durations, _ = frames_of(out)
    assert len(frames) == 2 and durations == [70, 70]   # 10 ms units
    actor, critic = frames[0][:210, :160], frames[0][:210, 168:]
    assert frames[0].shape == (222, 328, 3)
    # Quantised to a palette: the channels keep their roles roughly.
    assert (actor[..., 1] - actor[..., 0]).max() > 100
    assert (critic[..., 0] - critic[..., 1]).max() > 100
    assert np.abs(actor[..., 0] - actor[..., 2]).mean() < 4


def test_animation_needs_gif_or_webp(tmp_path, capsys):
    out = tmp_path / 'a.png'
    assert preview.main(['--frames', '2', '--out', str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and '.gif or .webp' in err[0]
    assert preview.main(['--fps', '0', '--out', str(out)]) == 2
    assert not list(tmp_path.iterdir())


def test_readme_picture_is_the_boxing_animation():
    """The README opens with an animation under 3 MB, of the size and
    length its caption's command draws."""
    root = os.path.join(os.path.dirname(__file__), '..')
    text = open(os.path.join(root, 'README.md')).read()
    first = re.search(r'!\[[^]]*\]\(([^)]+)\)', text).group(1)
    assert first == 'docs/boxing.webp'
    command = re.search(r'`python (examples/mygym/preview\.py [^`]+)`',
                        text).group(1)
    assert '--frames 150' in command and '--out ' + first in command
    path = os.path.join(root, first)
    assert os.path.getsize(path) < 3 * 2 ** 20
    frames, durations, loop = frames_of(path)
    assert len(frames) == 150 and loop == 0
    assert frames[0].shape == (444, 648, 3) and durations[0] == 67


def test_episode_scale_shares_one_peak_over_the_steps_drawn(tmp_path):
    frame_scaled, shared = tmp_path / 'f.webp', tmp_path / 'e.webp'
    common = ['--step', '30', '--frames', '3', '--video-scale', '1']
    assert preview.main(common + ['--out', str(frame_scaled)]) == 0
    assert preview.main(common + ['--scale', 'episode', '--out',
                                  str(shared)]) == 0
    each, _, _ = frames_of(frame_scaled)
    one, _, _ = frames_of(shared)
    # One peak for all steps: no frame is brighter than at its own peak,
    # and those whose own peak is below the shared one are dimmer.
    own = [f[:210, :160, 1].astype(int).mean() for f in each]
    common_peak = [f[:210, :160, 1].astype(int).mean() for f in one]
    for mine, theirs in zip(own, common_peak):
        assert theirs <= mine + 1
    assert sum(common_peak) < sum(own) - 1
