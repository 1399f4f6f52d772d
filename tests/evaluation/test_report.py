"""evaluation/report.py: what report.md says of hand-made measures, and
its pictures drawn as every tool draws maps."""
import imageio.v2 as imageio
import numpy as np

from evaluation import report as rp
from evaluation.verdicts import MIN_FRAMES, TERMS, verdict

STAGES = ['heads', 'conv1']


def _metrics(last):
    return {'randomization_spearman': {'heads': 0.9, 'conv1': last},
            'randomization_ssim': {'heads': 0.9, 'conv1': 0.5},
            'cross_frame_spearman': 0.4,
            'deletion_auc': 0.5, 'deletion_auc_random': 0.3,
            'insertion_auc': 0.1, 'insertion_auc_random': 0.3,
            'deletion_auc_prob': 0.2, 'deletion_auc_prob_random': 0.3,
            'insertion_auc_prob': 0.4, 'insertion_auc_prob_random': 0.3}


def _report(frames):
    methods = {'guided': {'actor': _metrics(0.2), 'critic': _metrics(0.7),
                          'ms_per_frame': 2.0}}
    report = {'checkpoint': 'c', 'env': 'PongNoFrameskip-v4',
              'frames': frames, 'stride': 4, 'seed': 0,
              'random_orderings': 5, 'radius': 5, 'methods': methods}
    verdicts = {'guided': {m: verdict(methods['guided'][m], STAGES, frames)
                           for m in ('actor', 'critic')}}
    return report, verdicts


def _markdown(frames):
    report, verdicts = _report(frames)
    return rp.markdown(report, STAGES, verdicts, 1.0)


def _verdict_rows(text):
    return [line for line in text.splitlines()
            if line.startswith('| guided | ')][:2]


def test_verdicts_are_called_on_enough_frames():
    text = _markdown(MIN_FRAMES)
    actor, critic = _verdict_rows(text)
    assert actor == '| guided | actor | passes | n/a | yes | yes |'
    assert critic == '| guided | critic | fails | n/a | yes | yes |'
    assert 'On {} frames.'.format(MIN_FRAMES) in text


def test_too_few_frames_is_said_instead_of_a_verdict():
    text = _markdown(MIN_FRAMES - 1)
    actor, _ = _verdict_rows(text)
    assert actor == ('| guided | actor | too few frames | n/a | too few '
                     'frames | too few frames |')
    assert 'at least {} are needed'.format(MIN_FRAMES) in text


def test_every_term_is_defined_at_the_end():
    text = _markdown(MIN_FRAMES)
    terms = text[text.index('## Terms'):]
    for term in TERMS:
        assert '- **{}**: '.format(term) in terms


def test_example_frames_draw_actor_green_and_critic_red(tmp_path):
    states = np.zeros((3, 1, 20, 20), np.float32) + 0.25
    hot = np.zeros((3, 20, 20), np.float32)
    hot[:, 5:10, 5:10] = 1.0
    path = str(tmp_path / 'examples.png')
    rp.plot_examples('guided', states, (hot, hot), (hot * 0, hot * 0),
                     path, n=1)
    picture = imageio.imread(path)[..., :3].astype(int)
    green = (picture[..., 1] > 200) & (picture[..., 0] < 100)
    red = (picture[..., 0] > 200) & (picture[..., 1] < 100)
    assert green.sum() > 50 and red.sum() > 50
    # Green sits left of red: the actor's panels come first.
    assert np.nonzero(green)[1].mean() < np.nonzero(red)[1].mean()


def test_curves_panels_have_unique_titles(tmp_path, monkeypatch):
    titles = []
    import matplotlib.axes
    original = matplotlib.axes.Axes.set_title

    def keep(ax, title, *args, **kwargs):
        titles.append(title)
        return original(ax, title, *args, **kwargs)
    monkeypatch.setattr(matplotlib.axes.Axes, 'set_title', keep)
    series = {'kl': np.linspace(0, 1, 21), 'prob': np.linspace(1, 0, 21),
              'value': np.linspace(0, 1, 21)}
    curves = {name: {m: {k: dict(series) for k in ('deletion', 'insertion')}
                     for m in ('actor', 'critic')}
              for name in ('guided', 'random')}
    rp.plot_curves(curves, ['guided'], str(tmp_path / 'c.png'))
    assert len(titles) == 6 and len(set(titles)) == 6
