"""models/protocol.py: checking an untrusted protocol, and what it builds."""
import pytest

from env_gym_chainer import FramePreprocessor
from models import protocol
from models.protocol import PRESETS, ProtocolError, check, of, own


def test_own_protocol_is_the_environment_default():
    p = own(FramePreprocessor(84))
    assert p['frame_skip'] == 4 and p['max_pool'] and p['noop_max'] == 30
    assert p['fire_on_new_life'] == 'auto' and p['stack_fill'] == 'copies'
    check(p, 84)


def test_a_checkpoint_protocol_overrides_the_architecture_s_fields():
    p = of({'protocol': {'noop_max': 0, 'frame_skip': [2, 4]}},
           FramePreprocessor(80))
    assert p['noop_max'] == 0 and p['frame_skip'] == [2, 4]
    assert p['size'] == 80 and p['max_pool'] is True       # kept
    options = protocol.environment_options(p)
    assert options['frame_skip'] == (2, 4) and options['noop_max'] == 0
    built = protocol.preprocessor(dict(p, crop_rows=[34, 194]))
    assert built.size == 80 and built.crop_rows == (34, 194)


@pytest.mark.parametrize('field, value, words', [
    ('size', 84, 'the network sees 80x80 frames'),
    ('gray', 'sepia', "gray is 'sepia'"),
    ('frame_skip', [4, 2], 'frame_skip'),
    ('frame_skip', True, 'frame_skip'),
    ('crop_rows', [0, 4], 'crop_rows'),
    ('noop_max', 101, 'noop_max'),
    ('stack_fill', 'ones', 'stack_fill'),
])
def test_values_the_suite_cannot_play_are_refused(field, value, words):
    p = dict(own(FramePreprocessor(80)), **{field: value})
    with pytest.raises(ProtocolError, match=words.replace('(', r'\(')):
        check(p, 80)


def test_unknown_fields_and_non_objects_are_refused():
    with pytest.raises(ProtocolError, match="unknown field.*'colour'"):
        check({'colour': 1}, 84)
    with pytest.raises(ProtocolError, match='not a JSON object'):
        check([1, 2], 84)


def test_every_preset_is_valid_and_reads_as_its_steps():
    for name, preset in PRESETS.items():
        check(preset, preset['size'])
        lines = protocol.steps(preset)
        assert len(lines) >= 5, name
    greydanus = protocol.steps(PRESETS['greydanus'])
    assert greydanus[0].startswith('each step repeats the action for '
                                   '2..4 emulator frames')
    assert 'no FIRE pressed for the agent' in ' '.join(greydanus)
    assert 'FireResetEnv' in ' '.join(protocol.steps(PRESETS['sb3']))
