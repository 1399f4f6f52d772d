"""Command-line conventions: one-line errors and the exit statuses."""
import argparse
import os

import pytest

from common.cli import (SEED, OneLineParser, Terminated, UsageError,
                        check_output_file, check_writable_folder,
                        finite_float, int_in, run_main)
from common.outputs import OutputError


def test_number_types_take_their_range_and_refuse_the_rest():
    parse = int_in(1, 64)
    assert parse('1') == 1 and parse('64') == 64
    for text, needle in (('0', '>= 1'), ('65', '<= 64'),
                         ('2.5', 'expected an integer')):
        with pytest.raises(argparse.ArgumentTypeError, match=needle):
            parse(text)
    above = finite_float(0, 100, above_minimum=True)
    assert above('0.5') == 0.5
    for text, needle in (('0', '> 0'), ('nan', 'finite'), ('inf', 'finite'),
                         ('101', '<= 100'), ('x', 'expected a number')):
        with pytest.raises(argparse.ArgumentTypeError, match=needle):
            above(text)
    assert SEED(str(2 ** 20 - 1)) == 2 ** 20 - 1
    with pytest.raises(argparse.ArgumentTypeError):
        SEED(str(2 ** 20))          # seed * 1000 + worker must fit 31 bits


def test_output_checks_refuse_folders_and_unwritable_places(tmp_path):
    check_output_file(str(tmp_path / 'new.mp4'), '--out')
    with pytest.raises(UsageError, match='is a folder; give a file name'):
        check_output_file(str(tmp_path), '--out')
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(UsageError, match='cannot write to --out'):
        check_writable_folder(str(blocker / 'sub'), '--out')
    assert sorted(os.listdir(tmp_path)) == ['file']   # no probe left


def _parser():
    p = OneLineParser(prog='tool.py')
    p.add_argument('--n', type=int_in(1, 3), default=1)
    return p


@pytest.mark.parametrize('error,status,needle', [
    (UsageError('bad input'), 2, 'tool.py: error: bad input'),
    (OutputError('disk full'), 1, 'tool.py: error: disk full'),
    (KeyboardInterrupt(), 130, 'tool.py: interrupted'),
    (Terminated(), 143, 'tool.py: terminated'),
])
def test_run_main_turns_each_ending_into_one_line_and_a_status(
        error, status, needle, capsys):
    def run(args):
        raise error
    assert run_main(_parser(), run, []) == status
    err = capsys.readouterr().err
    assert err.strip() == needle


def test_a_bad_flag_is_one_line_and_status_2(capsys):
    assert run_main(_parser(), lambda args: 0, ['--n', '9']) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'must be <= 3' in err
    assert run_main(_parser(), lambda args: args.n, ['--n', '3']) == 3


def test_every_help_shows_the_defaults():
    """Each tool's --help gives an option's default where it has one."""
    import dead_units
    import faithfulness
    import import_agent
    import plot_scores
    import preview
    import saliency_app
    import train_a3c_gym
    texts = {m.__name__: m.build_parser().format_help() for m in (
        dead_units, faithfulness, import_agent, plot_scores, preview,
        saliency_app, train_a3c_gym)}
    assert '(default: 0)' in ' '.join(texts['train_a3c_gym'].split())
    assert '(default: 0.0007)' in texts['train_a3c_gym']
    assert 'default 300' in texts['dead_units']
    for name, text in texts.items():
        assert 'default' in text, name
        assert '(default: )' not in text and '(default: None)' not in text
