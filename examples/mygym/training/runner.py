"""Output folders and asynchronous A3C training that resumes where it stopped.

ChainerRL's ``train_agent_async`` always counts steps from 0 and its
``prepare_output_dir`` writes every environment variable of the process to
``environ.txt``. Here the global step counter starts at the step of the
loaded checkpoint (so ``<steps>_finish``, evaluation times and the learning
rate schedule carry on), nothing from the environment is written, a worker
crash (which ChainerRL only reports as an ``AbnormalExitWarning`` when the
run ends) stops the run at once and becomes an exception, workers exit when
their parent dies, and checkpoints are written every
``checkpoint_interval`` steps. ChainerRL's own per-worker ``train_loop``
does the actual training.
"""
import contextlib
import cProfile
import datetime
import importlib
import json
import logging
import multiprocessing as mp
import multiprocessing.connection
import multiprocessing.sharedctypes
import os
import shutil
import signal
import sys
import traceback

import chainer
import chainerrl_compat  # noqa: F401
import numpy as np
from common.cli import Terminated
from training import memory
from models.optimizers import set_learning_rate
from chainerrl.experiments.evaluator import AsyncEvaluator
from chainerrl.experiments.hooks import LinearInterpolationHook
from chainerrl.misc import async_, namedpersistent, random_seed
from threadpoolctl import threadpool_limits

# The package re-exports a function under the module's name.
chainerrl_async = importlib.import_module(
    'chainerrl.experiments.train_agent_async')


PR_SET_PDEATHSIG = 1


class WorkerCrashed(RuntimeError):
    """At least one training process exited abnormally."""


def prepare_output_dir(outdir, args):
    """Create ``outdir/<timestamp>`` with ``args.json`` and ``command.txt``.

    Unlike ChainerRL's version, writes nothing about the process environment
    (no secrets on disk). Returns the new folder's path.
    """
    os.makedirs(outdir, exist_ok=True)
    stamp = datetime.datetime.now().strftime('%Y%m%dT%H%M%S.%f')
    run_dir = os.path.join(outdir, stamp)
    os.makedirs(run_dir)
    with open(os.path.join(run_dir, 'args.json'), 'w') as f:
        json.dump(args, f, indent=1, sort_keys=True)
    with open(os.path.join(run_dir, 'command.txt'), 'w') as f:
        f.write(' '.join(sys.argv) + '\n')
    return run_dir


class StepHook:
    """Keeps ``agent.global_step`` current and checkpoints periodically.

    Called by every worker at every global step ``t``; exactly one worker
    sees each ``t``, so each checkpoint is written once. Only the newest
    ``keep`` periodic checkpoints are kept.
    """

    def __init__(self, outdir, checkpoint_interval, keep=2):
        self.outdir = outdir
        self.checkpoint_interval = checkpoint_interval
        self.keep = keep

    def __call__(self, env, agent, t):
        agent.global_step = t
        if self.checkpoint_interval and t % self.checkpoint_interval == 0:
            agent.save(os.path.join(self.outdir, '{}_checkpoint'.format(t)))
            logging.getLogger(__name__).info('checkpoint at step %d', t)
            self._prune(t)

    def _prune(self, t):
        stale = t - self.keep * self.checkpoint_interval
        if stale > 0:
            shutil.rmtree(os.path.join(self.outdir,
                                       '{}_checkpoint'.format(stale)),
                          ignore_errors=True)


def linear_lr_decay_hook(lr, total_steps):
    """Learning rate falling linearly from ``lr`` at step 0 to 0 at the end.

    The value depends on the global step only, so a resumed run continues
    the schedule instead of restarting it.
    """
    def set_lr(env, agent, value):
        set_learning_rate(agent.optimizer, value)
    return LinearInterpolationHook(total_steps, lr, 0, set_lr)


def _exit_with_parent(parent_pid):
    """Have the kernel send this process SIGTERM when its parent dies
    (Linux); elsewhere, nothing."""
    prctl = getattr(memory.LIBC, 'prctl', None)
    if prctl is None:
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:      # it died before prctl took effect
        os._exit(1)


def _worker_main(target, index, parent_pid, errors, outdir):
    _exit_with_parent(parent_pid)
    # A run started in the background inherits SIGINT ignored: the worker
    # still stops (and saves) when the parent forwards one.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        target(index)
    except KeyboardInterrupt:
        # Ctrl-C reaches every process of the terminal's group: the parent
        # reports it; a stopped worker is no crash to write up.
        errors.put('worker {}: interrupted'.format(index))
        os._exit(130)
    except BaseException as e:
        # One line for the parent; the whole traceback in the run folder.
        message = '{}: {}'.format(type(e).__name__, e).splitlines()[0]
        errors.put('worker {}: {}'.format(index, message))
        if outdir:
            path = os.path.join(outdir, 'worker-{}-error.txt'.format(index))
            with contextlib.suppress(OSError), open(path, 'w') as f:
                traceback.print_exc(file=f)
        os._exit(1)


def run_processes(processes, target, outdir=None, poll=0.2):
    """Run ``target(index)`` in ``processes`` forked workers.

    Returns one line per worker that failed (exception, signal, non-zero
    exit); as soon as one fails the others are stopped, within about
    ``poll`` seconds, instead of training on until the end. Workers exit
    when this process dies. Ctrl-C reaches the workers too (they share the
    terminal's process group); this waits for them to save and stop.
    """
    context = mp.get_context('fork')
    errors = context.SimpleQueue()
    parent = os.getpid()
    workers = [context.Process(target=_worker_main,
                               args=(target, i, parent, errors, outdir))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    failed = []
    try:
        running = list(workers)
        while running and not failed:
            # Wakes as soon as any worker ends (or after ``poll``).
            mp.connection.wait([w.sentinel for w in running], poll)
            running = [w for w in workers if w.is_alive()]
            failed = [w for w in workers if w.exitcode not in (None, 0)]
    except KeyboardInterrupt as stop:
        if isinstance(stop, Terminated):
            # SIGTERM came to this process alone (Ctrl-C at a terminal
            # reaches the whole group): ask the workers as Ctrl-C would, so
            # that the first saves the agent before they stop.
            for worker in workers:
                if worker.is_alive():
                    with contextlib.suppress(OSError):
                        os.kill(worker.pid, signal.SIGINT)
        for worker in workers:
            worker.join(30)
        raise
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        for worker in workers:
            worker.join()
    messages = []
    while not errors.empty():
        messages.append(errors.get())
    for index, worker in enumerate(workers):
        if worker.exitcode not in (0, None) and not any(
                m.startswith('worker {}:'.format(index)) for m in messages) \
                and worker in failed:
            messages.append('worker {} exited with status {}'.format(
                index, worker.exitcode))
    return messages


def _shared_copy(array, typecode=None):
    """A ``multiprocessing.RawArray`` holding ``array``, flattened.

    ChainerRL's extraction hands the array to ``RawArray`` to copy element
    by element (0.6 s for the A3CFF's weights and RMSprop state); here
    the zero-filled block is written by NumPy.
    """
    flat = np.ascontiguousarray(array).ravel()
    typecode = typecode or flat.dtype.char
    shared = mp.RawArray(typecode, flat.size)
    np.frombuffer(shared, dtype=np.dtype(typecode))[:] = flat
    return shared


def _as_shared(obj):
    """What ChainerRL's ``async_.as_shared_objects`` returns for ``obj``
    (a link's parameters and persistent values, an optimizer's state), in
    the same layout, without replacing ``obj``'s arrays yet."""
    if isinstance(obj, tuple):
        return tuple(_as_shared(x) for x in obj)
    if isinstance(obj, chainer.Link):
        arrays = {name: _shared_copy(param.array)
                  for name, param in obj.namedparams()}
        for name, value in namedpersistent(obj):
            arrays[name] = _shared_copy(value if isinstance(
                value, np.ndarray) else np.asarray([value]))
        return arrays
    if isinstance(obj, chainer.Optimizer):
        states = {}
        for name, param in obj.target.namedparams():
            async_.ensure_initialized_update_rule(param)
            states[name] = {key: _shared_copy(value, 'f') for key, value
                            in param.update_rule.state.items()}
        return states
    if isinstance(obj, mp.sharedctypes.Synchronized):
        return obj
    raise TypeError('cannot share a {}'.format(type(obj).__name__))


def share_agent(agent):
    """Put the agent's shared attributes (model, optimizer state) in
    shared memory, as ChainerRL's ``extract_shared_objects_from_agent``
    and ``set_shared_objects`` do, with faster copies."""
    shared = {attr: _as_shared(getattr(agent, attr))
              for attr in agent.shared_attributes}
    chainerrl_async.set_shared_objects(agent, shared)
    return shared


def train_agent_async(agent, outdir, processes, make_env, steps,
                      step_offset=0, eval_interval=10 ** 5,
                      eval_n_episodes=10, eval_max_episode_len=None,
                      global_step_hooks=(), seed=0, profile=False,
                      logger=None):
    """Train ``agent`` with ``processes`` A3C workers up to ``steps`` in all.

    Args:
        agent: an A3C agent; its model and optimizer state are shared.
        outdir (str): run folder (scores.txt, best/, <steps>_finish, ...).
        processes (int): number of worker processes.
        make_env (callable): ``(process_idx, test) -> env``.
        steps (int): global step at which training stops (total, counting
            ``step_offset``).
        step_offset (int): global step of the loaded checkpoint.
        eval_interval (int or None): steps between evaluations; None: never.
        eval_n_episodes (int): episodes per evaluation.
        eval_max_episode_len (int or None): cap on evaluation episodes.
        global_step_hooks: callables ``(env, agent, t)`` run every step.
        seed (int): base of the workers' NumPy/random seeds.
        profile (bool): write ``profile-<worker>.out`` (cProfile) in outdir.

    Raises:
        WorkerCrashed: a worker exited abnormally (exception, signal).
    """
    logger = logger or logging.getLogger(__name__)
    counter = mp.Value('l', step_offset)
    episodes_counter = mp.Value('l', 0)
    training_done = mp.Value('b', False)

    share_agent(agent)

    evaluator = None
    if eval_interval is not None and eval_n_episodes > 0:
        evaluator = AsyncEvaluator(
            n_steps=None, n_episodes=eval_n_episodes,
            eval_interval=eval_interval, outdir=outdir,
            max_episode_len=eval_max_episode_len, step_offset=step_offset,
            save_best_so_far_agent=True, logger=logger)

    def run_worker(process_idx):
        # One BLAS thread per worker: with 2+ workers, more threads only
        # contend for the same cores. Freed blocks are kept for the next
        # step instead of being unmapped and faulted in again.
        memory.reuse_freed_memory()
        # SIGTERM ends a worker at once (its checkpoints are atomic).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with threadpool_limits(limits=1):
            random_seed.set_random_seed(seed * processes + process_idx)
            env = make_env(process_idx, test=False)
            eval_env = (make_env(process_idx, test=True)
                        if evaluator is not None else env)
            agent.process_idx = process_idx

            def loop():
                chainerrl_async.train_loop(
                    process_idx=process_idx, env=env, agent=agent,
                    steps=steps, outdir=outdir, counter=counter,
                    episodes_counter=episodes_counter,
                    training_done=training_done, max_episode_len=None,
                    evaluator=evaluator, eval_env=eval_env,
                    global_step_hooks=global_step_hooks, logger=logger)

            try:
                if profile:
                    cProfile.runctx('loop()', globals(), locals(),
                                    os.path.join(outdir, 'profile-{}.out'
                                                 .format(process_idx)))
                else:
                    loop()
                if process_idx == 0 and evaluator is not None:
                    # A run shorter than --eval-interval still ends with
                    # an evaluation row in scores.txt and a best/.
                    final_evaluation(evaluator, agent, eval_env,
                                     counter.value, episodes_counter.value)
            finally:
                env.close()
                if eval_env is not env:
                    eval_env.close()

    # What every worker imports for its first acting step, imported once
    # here: the forked workers start with it (about 0.15 s each otherwise).
    importlib.import_module('onnx')
    importlib.import_module('onnxruntime')
    crashes = run_processes(processes, run_worker, outdir)
    if crashes:
        raise WorkerCrashed('; '.join(crashes))
    return agent


def final_evaluation(evaluator, agent, env, t, episodes):
    """One evaluation of ``agent`` at step ``t`` by ``evaluator`` (its
    row in ``scores.txt`` with this worker's statistics, ``best/`` if it
    is the best), unless an evaluation row was written already."""
    with evaluator.wrote_header.get_lock():
        if evaluator.wrote_header.value:
            return
        evaluator.write_header(agent)
        evaluator.wrote_header.value = True
    evaluator.evaluate_and_update_max_score(t, episodes, env, agent)
