"""preview.py: one step of both videos, side by side, as a PNG."""
import imageio.v2 as imageio
import numpy as np

import preview


def test_writes_actor_left_critic_right(tmp_path, capsys):
    out = tmp_path / 'p.png'
    assert preview.main(['--step', '30', '--out', str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    picture = imageio.imread(out).astype(int)
    assert picture.shape == (420, 320 + 8 + 320, 3)
    actor, critic = picture[:, :320], picture[:, 328:]
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
