"""The frame-range app on a Dask cluster: the same maps as the local run,
a killed worker's frames recomputed, a lost or absent cluster one line."""
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

import saliency_app
from evaluation import cluster as cl


def _app(rollout, out, *extra, frames=(0, 9), method='greydanus'):
    return saliency_app.main(['--rollout', rollout, '--start-frame',
                              str(frames[0]), '--end-frame', str(frames[1]),
                              '--method', method, '--out', str(out)]
                             + [str(e) for e in extra])


def test_a_local_cluster_gives_the_local_maps(rollout_path, tmp_path):
    imported = 'distributed' in sys.modules
    assert _app(rollout_path, tmp_path / 'local') == 0
    assert imported or 'distributed' not in sys.modules  # no flag: no Dask
    assert _app(rollout_path, tmp_path / 'dask', '--cluster', 'local:2') == 0
    local, dask = (np.load(tmp_path / n / 'maps.npz') for n in ('local',
                                                                'dask'))
    np.testing.assert_array_equal(local['frames'], dask['frames'])
    for name in ('actor', 'critic'):
        assert local[name].max() > 0
        np.testing.assert_allclose(dask[name], local[name], rtol=1e-5,
                                   atol=1e-7)


@pytest.fixture
def running_cluster():
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as local:
        with Client(local) as client:
            yield local, client


def _in_thread(call):
    result = {}
    thread = threading.Thread(target=lambda: result.update(rc=call()))
    thread.start()
    return thread, result


def _wait_busy(client, timeout=120):
    """A worker address that is computing maps now."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for worker, keys in client.processing().items():
            if any('maps_task' in str(k) for k in keys):
                return worker
        time.sleep(0.02)
    raise AssertionError('no worker started the maps')


def test_killed_workers_frames_and_network_are_recomputed(rollout_path,
                                                          tmp_path,
                                                          running_cluster):
    """Every worker that holds the network's weights (every busy one among
    them) killed mid-run: Dask recomputes their chunks elsewhere and the
    scheduler the network (a task; scattered data would be forgotten with
    its last copy, and every chunk with it)."""
    local, client = running_cluster
    pids = client.run(os.getpid)
    assert _app(rollout_path, tmp_path / 'ref', frames=(0, 15)) == 0
    thread, result = _in_thread(lambda: _app(
        rollout_path, tmp_path / 'dask', '--scheduler',
        local.scheduler_address, frames=(0, 15)))
    busy = _wait_busy(client)
    # What the chunks depend on: the network (its weights).
    holders = {worker for key, workers in client.who_has().items()
               if 'maps_task' not in str(key) for worker in workers}
    assert busy in holders
    for worker in holders:
        os.kill(pids[worker], signal.SIGKILL)
    thread.join(300)
    assert result['rc'] == 0
    alive = client.run(os.getpid).values()
    assert not any(pids[worker] in alive for worker in holders)   # gone
    ref, got = (np.load(tmp_path / n / 'maps.npz') for n in ('ref', 'dask'))
    np.testing.assert_array_equal(got['frames'], np.arange(16))
    for name in ('actor', 'critic'):
        np.testing.assert_allclose(got[name], ref[name], rtol=1e-5,
                                   atol=1e-7)


def test_a_lost_cluster_is_one_line_and_writes_nothing(rollout_path,
                                                       tmp_path, capsys,
                                                       running_cluster):
    local, client = running_cluster
    out = tmp_path / 'dask'
    thread, result = _in_thread(lambda: _app(
        rollout_path, out, '--scheduler', local.scheduler_address,
        frames=(0, 19)))
    _wait_busy(client)
    local.close()
    thread.join(300)
    err = capsys.readouterr().err.strip().splitlines()
    assert result['rc'] == 2
    assert [line for line in err if 'error' in line] == [err[-1]]
    assert 'lost the Dask cluster' in err[-1]
    assert not out.exists() or not os.listdir(out)


def test_an_unreachable_scheduler_is_refused_before_any_output(
        rollout_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cl, 'CONNECT_TIMEOUT', '1s')
    out = tmp_path / 'never'
    assert _app(rollout_path, out, '--scheduler', 'tcp://127.0.0.1:9') == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert 'cannot reach the Dask scheduler at tcp://127.0.0.1:9' in err
    assert not out.exists()
    assert _app(rollout_path, out, '--cluster', 'local:zero') == 2
    assert '--cluster local:N needs N' in capsys.readouterr().err
    assert _app(rollout_path, out, '--cluster', 'local:2', '--workers',
                '2') == 2
    assert '--workers is the local pool' in capsys.readouterr().err
    assert _app(rollout_path, out, '--cluster', 'local:2', '--device',
                'cuda') == 2
    # Refused before any work: by the cluster check, or on a machine
    # without CUDA already by the device check.
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and '--device cuda' in err
    assert not out.exists()


def test_ctrl_c_on_a_cluster_keeps_the_frames_done(rollout_path, tmp_path,
                                                   monkeypatch, capsys):
    seen = {}

    class Interrupting(cl.ClusterMaps):
        def maps(self, *args, progress=None, done=None, **kwargs):
            def interrupt(k):
                # Ctrl-C as the first chunk comes in (chunks may finish in
                # any order): what is kept is the run of finished frames
                # from the first, 0..7 or none.
                progress(k)
                seen['done'] = sorted(done)
                raise KeyboardInterrupt
            return super().maps(*args, progress=interrupt, done=done,
                                **kwargs)

    monkeypatch.setattr(saliency_app, 'ClusterMaps', Interrupting)
    out = tmp_path / 'app'
    assert _app(rollout_path, out, '--cluster', 'local:2',
                frames=(0, 19)) == 130
    assert 'interrupted' in capsys.readouterr().err
    assert len(seen['done']) == 1
    if seen['done'] != [0]:             # nothing from the first frame on
        assert not (out / 'maps.npz').exists()
        return
    frames = np.load(out / 'maps.npz')['frames']
    np.testing.assert_array_equal(frames, np.arange(8))
