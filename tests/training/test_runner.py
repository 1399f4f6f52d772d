"""Training that survives kills: loadable checkpoints, no orphans, no
leftovers, and a crashed worker that stops the run at once."""
import copy
import glob
import importlib
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import env_gym_chainer
import train_a3c_gym
from training import runner
from agents import build_agent, load_agent
from models.checkpoint import clean_folder, recover

chainerrl_async = importlib.import_module(
    'chainerrl.experiments.train_agent_async')


def _dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def _children(pid):
    found = []
    for stat in glob.glob('/proc/[0-9]*/stat'):
        try:
            fields = open(stat).read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.split('/')[2]))
    return found


def _alive(pid):
    try:
        fields = open('/proc/{}/stat'.format(pid)).read().rsplit(')', 1)
    except OSError:
        return False
    return fields[1].split()[0] != 'Z'


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_training(outdir, *extra, ignore_sigint=False):
    return subprocess.Popen(
        [sys.executable, train_a3c_gym.__file__, '2', '--steps', '1000000',
         '--env', 'BreakoutNoFrameskip-v4',
         '--outdir', str(outdir), '--checkpoint-interval', '40',
         '--eval-interval', '80', '--eval-n-runs', '1', '--max-episode-len',
         '10', '--logger-level', '40', *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_ignore_sigint if ignore_sigint else None)


def _kill_group(proc):
    """Whatever of the training's process group is left, killed."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_for(pattern, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = glob.glob(pattern)
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError('nothing matched ' + pattern)


def test_kill_9_leaves_loadable_checkpoints_and_no_orphans(tmp_path):
    proc = _start_training(tmp_path)
    try:
        _wait_for(str(tmp_path / '*' / 'best'))
        time.sleep(2)       # several checkpoints and evaluations later
        workers = _children(proc.pid)
        assert len(workers) == 2
        # The parent alone: its workers must not train on as orphans.
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(map(_alive, workers)):
            time.sleep(0.1)
        assert not any(map(_alive, workers))
    finally:
        _kill_group(proc)
    run, = glob.glob(str(tmp_path / '*'))
    newest = max(glob.glob(os.path.join(run, '*_checkpoint')),
                 key=lambda p: int(os.path.basename(p).split('_')[0]))
    for folder in (newest, os.path.join(run, 'best')):
        agent, info = load_agent(folder)
        assert info['steps'] > 0
    # The next start removes what the killed run left behind.
    for name in ('999_checkpoint.tmp-{}', 'best.old-{}'):
        os.makedirs(os.path.join(run, name.format(_dead_pid())))
    assert train_a3c_gym.main(['1', '--steps', '5', '--outdir',
                               str(tmp_path), '--eval-n-runs', '0',
                               '--checkpoint-interval', '0']) == 0
    assert not glob.glob(os.path.join(run, '*.tmp-*'))
    assert not glob.glob(os.path.join(run, '*.old-*'))
    load_agent(os.path.join(run, 'best'))


@pytest.mark.parametrize('left', ['complete new', 'old only'])
def test_a_kill_between_the_renames_of_a_save_is_recovered(tmp_path, left):
    agent = build_agent('FFSoftmax', 6, env='PongNoFrameskip-v4')
    agent.global_step = 100
    agent.save(str(tmp_path / 'best'))
    agent.global_step = 200
    agent.save(str(tmp_path / 'newer'))
    pid = _dead_pid()
    # As if killed after "best -> best.old-PID", before "tmp -> best".
    os.rename(tmp_path / 'best', tmp_path / 'best.old-{}'.format(pid))
    if left == 'complete new':
        os.rename(tmp_path / 'newer', tmp_path / 'best.tmp-{}'.format(pid))
    else:
        shutil.rmtree(tmp_path / 'newer')
    # Loading finishes (or undoes) the save.
    _, info = load_agent(str(tmp_path / 'best'))
    assert info['steps'] == (200 if left == 'complete new' else 100)
    assert os.listdir(tmp_path) == ['best']


def test_leftovers_of_a_running_process_are_left_alone(tmp_path):
    live = tmp_path / '40_checkpoint.tmp-{}'.format(os.getpid())
    live.mkdir()
    clean_folder(str(tmp_path))
    recover(str(tmp_path / '40_checkpoint'))
    assert live.is_dir()


def test_a_crashed_worker_stops_the_run_at_once(tmp_path, capsys,
                                                monkeypatch):
    real_step = env_gym_chainer.GymEnvironment.step

    def step(self, action):
        if self._next_seed is None and self.seed_of_worker == 1:
            raise RuntimeError('emulator exploded')
        return real_step(self, action)

    real_init = env_gym_chainer.GymEnvironment.__init__

    def init(self, *args, seed=None, **kwargs):
        real_init(self, *args, seed=seed, **kwargs)
        self.seed_of_worker = seed

    monkeypatch.setattr(env_gym_chainer.GymEnvironment, '__init__', init)
    monkeypatch.setattr(env_gym_chainer.GymEnvironment, 'step', step)
    start = time.time()
    rc = train_a3c_gym.main(['2', '--steps', '10000000', '--outdir',
                             str(tmp_path), '--eval-n-runs', '0'])
    assert rc == 1
    assert time.time() - start < 30      # not the 10M steps of worker 0
    err = capsys.readouterr().err
    assert 'worker 1: RuntimeError: emulator exploded' in err
    run, = glob.glob(str(tmp_path / '*'))
    assert 'emulator exploded' in open(os.path.join(
        run, 'worker-1-error.txt')).read()
    assert json.load(open(os.path.join(run, 'args.json')))['processes'] == 2


def _sleeps(index):
    time.sleep(0.1 if index == 0 else 2.0)


def test_waiting_for_the_last_worker_costs_no_cpu():
    # Worker 0 ends at once; waiting for worker 1 must not spin.
    start = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    assert runner.run_processes(2, _sleeps) == []
    assert resource.getrusage(resource.RUSAGE_SELF).ru_utime - start < 0.5


@pytest.mark.parametrize('optimizer', ['rmsprop', 'adam'])
def test_shared_memory_holds_what_chainerrl_would_share(optimizer):
    """share_agent puts the same arrays under the same names as ChainerRL's
    own extraction, and the agent then works on the shared blocks: a write
    through a forked worker's view is seen by the parent."""

    np.random.seed(0)
    agent = build_agent('FFSoftmax', 4, 4, optimizer=optimizer)
    twin = copy.deepcopy(agent)
    before = {n: p.array.copy() for n, p in agent.shared_model.namedparams()}
    shared = runner.share_agent(agent)
    reference = chainerrl_async.extract_shared_objects_from_agent(twin)
    assert shared.keys() == reference.keys()
    for attr in shared:
        ours, theirs = shared[attr], reference[attr]
        assert ours.keys() == theirs.keys()
        for name in ours:
            if isinstance(ours[name], dict):        # optimizer state
                assert ours[name].keys() == theirs[name].keys()
                pairs = [(ours[name][k], theirs[name][k])
                         for k in ours[name]]
            else:
                pairs = [(ours[name], theirs[name])]
            for a, b in pairs:
                assert a._type_ == b._type_ and len(a) == len(b)
                np.testing.assert_array_equal(np.frombuffer(a, a._type_),
                                              np.frombuffer(b, b._type_))
    for name, param in agent.shared_model.namedparams():
        np.testing.assert_array_equal(param.array, before[name])
    W = agent.shared_model.head[0].W
    worker = mp.get_context('fork').Process(
        target=lambda: W.array.__setitem__((0, 0, 0, 0), 123.0))
    worker.start()
    worker.join()
    assert W.array[0, 0, 0, 0] == 123.0


def _interrupted(index):
    raise KeyboardInterrupt


def _crashes(index):
    raise RuntimeError('boom {}'.format(index))


def test_an_interrupted_worker_leaves_no_crash_report(tmp_path):
    # Ctrl-C stops the workers too; only a real crash writes its traceback.
    assert runner.run_processes(1, _interrupted, str(tmp_path)) == [
        'worker 0: interrupted']
    assert os.listdir(tmp_path) == []
    assert runner.run_processes(1, _crashes, str(tmp_path)) == [
        'worker 0: RuntimeError: boom 0']
    assert os.listdir(tmp_path) == ['worker-0-error.txt']


def test_sigterm_to_a_background_run_saves_the_agent(tmp_path):
    # Started in the background, the run has SIGINT ignored; SIGTERM to
    # the launcher alone must still stop the workers the way Ctrl-C does,
    # the first saving the agent (<step>_except), within seconds.
    proc = _start_training(tmp_path, ignore_sigint=True)
    try:
        _wait_for(str(tmp_path / '*' / 'best'))
        started = time.time()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(60) == 143
        assert time.time() - started < 20
    finally:
        _kill_group(proc)
    saved, = glob.glob(str(tmp_path / '*' / '*_except'))
    agent, info = load_agent(saved)
    assert info['steps'] > 0
