"""Train an A3C agent on an Atari game, or watch a trained one (``--demo``).

Train (2 worker processes, 1M steps)::

    python examples/mygym/train_a3c_gym.py 2 --env PongNoFrameskip-v4 \\
        --steps 1000000 --outdir results

Evaluate a checkpoint::

    python examples/mygym/train_a3c_gym.py 1 --env PongNoFrameskip-v4 \\
        --demo --load results/<run>/1000000_finish

Training writes a run folder ``<outdir>/<timestamp>/`` with ``scores.txt``,
``best/`` (best evaluation so far), ``<N>_checkpoint/`` every
``--checkpoint-interval`` steps and ``<steps>_finish/``. ``--load`` of any of
them resumes training with the step count and learning-rate schedule carried
on; ``--steps`` is the total to reach.
"""
import datetime
import logging
import os
import sys

import chainerrl_compat  # noqa: F401
import chainer
import numpy as np
from chainerrl import misc
from threadpoolctl import threadpool_limits

from evaluation import episodes
from training import runner
from agents import (build_agent, environment_options, evaluation_seed,
                    load_agent)
from models.networks import ARCHS, DEFAULT_ARCH, stacked_frames
from models.checkpoint import (CheckpointError, clean_folder,
                               read_checkpoint_info)
from common.cli import (SCALE_HELP, SEED, OneLineParser, UsageError,
                        add_flag, add_picture_flags, add_scoring_flags,
                        method_list,
                        scale_name,
                        check_device, check_output_file,
                        check_output_folder, check_writable_folder,
                        finite_float, prepare_output_folder,
                        int_at_least, int_in, positive_float, run_main)
from env_gym_chainer import GymEnvironment, UnknownGameError, check_atari_id
from models.optimizers import OPTIMIZERS
from common.outputs import OutputError, signals_deferred
from media.page import PageRecorder
from media.render import SaliencyRecorder
from evaluation.rollout import RolloutRecorder
from saliency import METHODS as SALIENCY_METHODS
from saliency import make_methods, policy_only


DEFAULT_ENV = 'PongNoFrameskip-v4'
# The agents shipped in the repository (a --demo without --load names them).
SHIPPED = tuple('examples/mygym/pretrained/' + name
                for name in ('pong', 'breakout-lstm', 'boxing'))


def build_parser():
    p = OneLineParser(
        prog='train_a3c_gym.py',
        description='Train an A3C agent with guided-ReLU network on an Atari '
                    'game, or evaluate one with --demo --load.')
    p.add_argument('processes', type=int_in(1, 64), nargs='?',
                   default=None,
                   help='number of A3C worker processes (required to '
                        'train; a --demo plays in one and ignores it)')
    add_flag(p, 'workers', type=int_in(1, 64), default=None,
             help='the same as the first argument (processes)')
    p.add_argument('--env', default=None,
                   help='ALE game id, e.g. PongNoFrameskip-v4, Boxing-v0, '
                        'ALE/Pong-v5 (default: the --load-ed checkpoint\'s '
                        'game, else {})'.format(DEFAULT_ENV))
    p.add_argument('--arch', default=None, choices=sorted(ARCHS),
                   help='network: FFSoftmax (ICLR-ACER head, 84x84), '
                        'FFSoftmaxMini (60x60 head), FFMellowmax '
                        '(mellowmax policy), LSTM (LSTM-CNN of the XAITK '
                        'example, one 80x80 frame), GRU (baby-a3c\'s '
                        'GRU-CNN), ChainerRLFF, ChainerRLLSTM, NatureAC, '
                        'NatureAC2 (Stable-Baselines3\'s and CleanRL\'s '
                        'Nature CNN), NatureQ (a DQN\'s: demos only) '
                        '(default: the --load-ed checkpoint\'s, else {})'
                        .format(DEFAULT_ARCH))
    add_flag(p, 'seed', type=SEED, default=0,
             help='random seed of workers and environments')
    p.add_argument('--outdir', default='results',
                   help='folder under which a timestamped run folder is '
                        'made')
    p.add_argument('--t-max', type=int_in(1, 10000), default=5,
                   help='A3C rollout length between updates')
    p.add_argument('--beta', type=finite_float(0), default=1e-2,
                   help='entropy regularisation weight')
    p.add_argument('--profile', action='store_true',
                   help='profile each worker with cProfile into the run '
                        'folder')
    p.add_argument('--steps', type=int_in(1, 2 ** 53), default=8 * 10 ** 7,
                   help='total training steps (all workers, counting those '
                        'of a --load-ed checkpoint)')
    p.add_argument('--eval-interval', type=int_at_least(1),
                   default=10 ** 5,
                   help='training steps between evaluations')
    p.add_argument('--eval-n-runs', type=int_in(0, 10000), default=10,
                   help='episodes per evaluation (training: 0 disables '
                        'evaluation) and in --demo')
    p.add_argument('--eval-n-steps', type=int_in(1, 10 ** 7), default=None,
                   help='--demo: play episodes until this many steps in '
                        'all instead of --eval-n-runs episodes (the last one '
                        'is cut off; only finished episodes are scored, '
                        'unless none finished)')
    p.add_argument('--reward-scale-factor', type=positive_float,
                   default=1.0,
                   help='training rewards are multiplied by this, then '
                        'clipped to [-1, 1]')
    p.add_argument('--optimizer', choices=OPTIMIZERS, default=None,
                   help='shared optimizer: rmsprop (ChainerRL\'s A3C '
                        'settings) or adam (Chainer\'s Adam, alpha = --lr: '
                        'how the LSTM-CNN was trained by Greydanus et al., '
                        'with --lr 1e-4 --t-max 20); default: the --load-ed '
                        'checkpoint\'s, else rmsprop')
    p.add_argument('--rmsprop-epsilon', type=positive_float, default=None,
                   help='epsilon of the shared RMSprop (default 0.1; '
                        'refused when training with Adam)')
    p.add_argument('--render', action='store_true',
                   help='show the game of worker 0 (training) or of the '
                        'demo in a live window')
    p.add_argument('--lr', type=positive_float, default=7e-4,
                   help='learning rate of the shared optimizer (Adam: '
                        'its alpha)')
    p.add_argument('--lr-schedule', choices=('constant', 'linear'),
                   default='constant',
                   help='constant: --lr throughout; linear: from --lr at '
                        'step 0 down to 0 at --steps (resumes carry on)')
    p.add_argument('--weight-decay', type=finite_float(0), default=0.0,
                   help='L2 weight decay on non-bias parameters')
    p.add_argument('--gradient-clipping', type=positive_float, default=None,
                   metavar='NORM',
                   help='scale each update\'s gradient down to this global '
                        'L2 norm at most (the ALE A3C example of ChainerRL '
                        'uses 40; default: no clipping, as the original)')
    p.add_argument('--demo', action='store_true',
                   help='evaluate instead of training')
    add_flag(p, 'load', default='',
             help='checkpoint folder to load (resume training, or '
                  'the agent for --demo)')
    p.add_argument('--allow-other-game', action='store_true',
                   help='load a checkpoint trained on another game (same '
                        'number of actions) instead of refusing it')
    p.add_argument('--logger-level', type=int_in(0, 50),
                   default=logging.INFO,
                   help='logging level (10 debug, 20 info, 30 warning)')
    p.add_argument('--monitor', action='store_true',
                   help='record MP4s of episodes 0, 1, 8, 27, ... of worker '
                        '0 (or of the demo) into <run>/monitor')
    p.add_argument('--frame-buffer-length', type=int_in(1, 64),
                   default=None,
                   help='number of stacked frames the network sees '
                        '(default 4; LSTM sees 1)')
    p.add_argument('--render-b2w', action='store_true',
                   help='show the preprocessed grayscale input of worker 0 '
                        '(or of the demo) in a live window')
    p.add_argument('--min_reward', type=finite_float(), default=None,
                   help='training rewards below this are set to 0 before '
                        'scaling (default: keep all)')
    p.add_argument('--max-episode-len', type=int_in(1, 10 ** 7),
                   default=None,
                   help='cap on evaluation episodes, in agent steps')
    p.add_argument('--life-rules', choices=('auto', 'off'), default='auto',
                   help='auto: in games with lives and a FIRE action '
                        '(Breakout), FIRE starts every life and a lost life '
                        'ends a training episode (evaluation plays whole '
                        'games); off: neither')
    p.add_argument('--checkpoint-interval', type=int_at_least(0),
                   default=10 ** 5,
                   help='training steps between checkpoints (0: none)')
    shows = p.add_argument_group('demo (saliency videos)')
    add_flag(shows, 'methods', default=['guided'],
             type=method_list(sorted(SALIENCY_METHODS) + ['none']),
             metavar='METHOD',
             help='saliency of actor and critic in --demo: guided backprop, '
                  'plain gradient (-all: over every stacked frame), '
                  'greydanus (blurred blobs), occlusion or rise (XAITK), '
                  'sarfa or logprob (blobs scored by the chosen action), '
                  'occlusion-blur or rise-blur (blurred fill, raw scores), '
                  'or none (fast evaluation, no videos); faithfulness.py '
                  'reports which maps mean anything (default: guided)')
    add_scoring_flags(shows)
    add_flag(shows, 'scale', type=scale_name, default='frame',
             help=SCALE_HELP)
    add_flag(shows, 'out', default=None,
             help='where the actor/critic MP4s go (default: '
                  '<outdir>/demo-<timestamp>)')
    add_picture_flags(shows)
    shows.add_argument('--composite', action='store_true',
                       help='write one video per episode with both maps side '
                       'by side over strips of the action probabilities '
                            'and the value estimate, instead of the two '
                            'streams')
    shows.add_argument('--save-maps', action='store_true',
                       help='also write each episode\'s raw maps (and signed '
                       'maps of sarfa/logprob), actions, action '
                            'probabilities and values to an .npz')
    shows.add_argument('--record-rollout', default=None, metavar='PATH',
                       help='save raw frames, observations, actions, logits '
                       'and values of the demo to PATH (.npz) for '
                            'saliency_app.py')
    shows.add_argument('--overwrite', action='store_true',
                       help='replace the files an earlier demo left in '
                            '--out (as a whole: none of them stays)')
    shows.add_argument('--greedy', action='store_true',
                       help='act on the most probable action instead of '
                            'sampling from the policy (A3C and Greydanus\' '
                            'agents are evaluated sampling; a DQN agent '
                            'always acts greedily)')
    return p


RMSPROP_EPSILON = 1e-1

# Flags that only a --demo reads: given to a training run, they are refused.
DEMO_ONLY = ('methods', 'chunk', 'device', 'scale',
             'out', 'video_scale', 'background', 'composite', 'save_maps',
             'record_rollout', 'eval_n_steps', 'greedy', 'overwrite')


def check_flags(parser, args):
    """Refuse, in one line, flags the run would silently ignore."""
    if 'none' in args.methods and len(args.methods) > 1:
        raise UsageError('--methods none (no maps) cannot be combined with '
                         'methods')
    args.method = args.methods[0]     # the videos'; the pages hold all
    if args.workers is not None:
        if args.processes not in (None, args.workers):
            raise UsageError('--workers {} and {} worker processes given: '
                             'give one'.format(args.workers, args.processes))
        args.processes = args.workers
    if args.demo:
        return
    if args.processes is None:
        raise UsageError('training needs the number of worker processes '
                         '(the first argument, e.g. train_a3c_gym.py 2 ...)')
    given = ['--' + dest.replace('_', '-') for dest in DEMO_ONLY
             if getattr(args, dest) != parser.get_default(dest)]
    if given:
        raise UsageError('{} only applies with --demo'.format(
            ', '.join(given)))
    optimizer = args.optimizer
    if optimizer is None and args.load:
        try:
            optimizer = read_checkpoint_info(args.load).get('optimizer')
        except CheckpointError as e:
            raise UsageError(str(e))
    if optimizer == 'adam' and args.rmsprop_epsilon is not None:
        raise UsageError('--rmsprop-epsilon has no effect when training '
                         'with Adam (--optimizer adam{})'.format(
                             '' if args.optimizer else
                             ', as the --load-ed checkpoint was'))


def training_reward_filter(min_reward, scale):
    """Trim (below ``min_reward`` -> 0), scale, then clip to [-1, 1]."""
    def reward_filter(reward):
        if min_reward is not None and reward < min_reward:
            reward = 0.0
        return float(np.clip(reward * scale, -1.0, 1.0))
    return reward_filter


def frame_buffer_length(args):
    """Frames the architecture stacks; raises UsageError on a conflict."""
    try:
        return stacked_frames(args.arch, args.frame_buffer_length)
    except ValueError as e:
        raise UsageError(str(e))


def agent_options(args):
    """The training settings of :func:`agents.build_agent` from the flags.
    """
    options = dict(env=args.env, lr=args.lr,
                   rmsprop_epsilon=(RMSPROP_EPSILON
                                    if args.rmsprop_epsilon is None
                                    else args.rmsprop_epsilon),
                   weight_decay=args.weight_decay,
                   gradient_clipping=args.gradient_clipping,
                   t_max=args.t_max, beta=args.beta)
    if args.optimizer:      # else build_agent's or the checkpoint's
        options['optimizer'] = args.optimizer
    return options


def make_agent(args, n_actions):
    """The agent the flags ask for: loaded from ``--load``, else fresh."""
    from_checkpoint(args)
    n_frames = frame_buffer_length(args)
    if not args.load:
        return build_agent(args.arch, n_actions, n_frames,
                           **agent_options(args))
    try:
        agent, _ = load_agent(args.load, arch=args.arch, n_actions=n_actions,
                              frame_buffer_length=n_frames,
                              allow_other_game=args.allow_other_game,
                              **agent_options(args))
    except CheckpointError as e:
        raise UsageError(str(e))
    return agent


def env_factory(args, run_dir=None):
    """``make_env(process_idx, test)`` for the parsed flags: training
    environments trim, scale and clip rewards and lose an episode with a
    life; test ones play whole games with raw rewards, at their own seeds.
    ``run_dir``: where ``--monitor`` writes (None: nowhere)."""
    # A loaded agent plays by its checkpoint's input protocol (an imported
    # agent's own frames); a fresh one by its architecture's.
    info = dict(from_checkpoint(args))
    info['arch'] = args.arch
    n_frames = frame_buffer_length(args)
    # In a demo with saliency, --render shows the saliency windows instead.
    render_game = args.render and not (args.demo and args.method != 'none')

    def make_env(process_idx, test):
        seed = (evaluation_seed(args.seed, process_idx) if test
                else args.seed * 1000 + process_idx)
        shown = process_idx == 0
        options = environment_options(info)
        if args.life_rules != 'auto':
            options['fire_on_new_life'] = False
        return GymEnvironment(
            args.env, frame_buffer_length=n_frames,
            seed=seed,
            reward_filter=None if test else training_reward_filter(
                args.min_reward, args.reward_scale_factor),
            render_game=render_game and shown,
            render_agent_input=args.render_b2w and shown,
            episodic_life=not test and args.life_rules == 'auto' and 'auto',
            monitor_dir=(os.path.join(run_dir, 'monitor')
                         if args.monitor and shown and run_dir else None),
            **options)
    return make_env


def from_checkpoint(args):
    """Fill ``--arch`` and ``--env`` from the ``--load``-ed checkpoint where
    they were not given (else the defaults); a given ``--arch`` that
    contradicts the checkpoint is refused, naming the checkpoint's.
    Returns what ``checkpoint.json`` says (``{}`` without one)."""
    info = {}
    if args.load and os.path.isdir(args.load):
        try:
            info = read_checkpoint_info(args.load)
        except CheckpointError as e:
            raise UsageError(str(e))
    saved_arch = info.get('arch')
    if args.arch and saved_arch and args.arch != saved_arch:
        raise UsageError('--arch {}: checkpoint {} holds arch={} (leave '
                         '--arch out to use it)'.format(
                             args.arch, args.load, saved_arch))
    args.arch = args.arch or saved_arch or DEFAULT_ARCH
    args.env = args.env or info.get('env') or DEFAULT_ENV
    return info


def run(args):
    logging.basicConfig(level=args.logger_level,
                        format='%(asctime)s %(levelname)s %(message)s')
    from_checkpoint(args)
    try:
        check_atari_id(args.env)
    except UnknownGameError as e:
        raise UsageError(str(e))
    if args.load and not os.path.isdir(args.load):
        raise UsageError('--load: no checkpoint folder at {}'.format(
            args.load))
    check_flags(build_parser(), args)
    if not args.demo and ARCHS[args.arch].make_model(
            2, 1 if ARCHS[args.arch].frames == 1 else 4
    ).structure.outputs == 'q':
        raise UsageError('--arch {} is a Q-network (an imported DQN agent): '
                         'A3C does not train it; use it with --demo'.format(
                             args.arch))
    if args.demo and args.eval_n_runs < 1:
        raise UsageError('--eval-n-runs must be >= 1 with --demo')
    if args.demo and not args.load:
        frame_buffer_length(args)       # a conflicting flag is named first
        raise UsageError(
            '--demo needs --load CHECKPOINT (it would play an untrained '
            'network): e.g. {} (Pong), {} (Breakout, LSTM), {} (Boxing), '
            'or an agent of import_agent.py'.format(*SHIPPED))
    if not args.demo:
        check_writable_folder(args.outdir, '--outdir')
    misc.set_random_seed(args.seed)

    run_dir = None
    if args.demo:
        run_dir = args.out or os.path.join(
            args.outdir, 'demo-' + datetime.datetime.now().strftime(
                '%Y%m%dT%H%M%S'))
        check_device(args.device)
        if args.method != 'none' or args.monitor:
            check_output_folder(run_dir, '--out', args.overwrite)
        if args.record_rollout:
            check_output_file(args.record_rollout, '--record-rollout')
    make_env = env_factory(args, run_dir)
    sample_env = make_env(0, test=True)
    n_actions = sample_env.n_actions
    sample_env.close()

    agent = make_agent(args, n_actions)
    if args.demo:
        return run_demo(args, agent, make_env, run_dir)

    step_offset = agent.global_step if args.load else 0
    if step_offset >= args.steps:
        raise UsageError('--load checkpoint is at step {} >= --steps {}: '
                         'nothing to train'.format(step_offset, args.steps))
    # Leftovers of runs that were killed: finish or undo their half-done
    # checkpoint saves, remove the rest.
    folders = [os.path.join(args.outdir, name)
               for name in os.listdir(args.outdir)]
    if args.load:
        folders.append(os.path.dirname(os.path.abspath(args.load)))
    for folder in folders:
        if os.path.isdir(folder):
            clean_folder(folder)
    run_dir = runner.prepare_output_dir(args.outdir, vars(args))
    hooks = [runner.StepHook(run_dir, args.checkpoint_interval)]
    if args.lr_schedule == 'linear':
        hooks.append(runner.linear_lr_decay_hook(args.lr, args.steps))
        hooks[-1](None, agent, step_offset)  # a resumed run starts mid-way
    print('training {} on {} with {} processes from step {}; run folder: '
          '{}'.format(args.arch, args.env, args.processes, step_offset,
                      run_dir), flush=True)
    try:
        runner.train_agent_async(
            agent=agent, outdir=run_dir, processes=args.processes,
            make_env=make_env, steps=args.steps, step_offset=step_offset,
            eval_interval=args.eval_interval if args.eval_n_runs else None,
            eval_n_episodes=args.eval_n_runs,
            eval_max_episode_len=args.max_episode_len,
            global_step_hooks=hooks, seed=args.seed, profile=args.profile)
    except runner.WorkerCrashed as e:
        print('train_a3c_gym.py: a training worker crashed: {}'.format(e),
              file=sys.stderr)
        return 1
    print('finished: {}'.format(os.path.join(
        run_dir, '{}_finish'.format(args.steps))), flush=True)
    return 0


def run_demo(args, agent, make_env, video_dir):
    if args.greedy:
        agent.act_deterministically = True
    if args.method != 'none' or args.monitor:
        prepare_output_folder(video_dir, args.overwrite)
    if args.method != 'none':
        try:
            agent.saliency = make_methods(
                args.methods, chunk=args.chunk,
                device=args.device, model=agent.model, scoring=args.scoring)
        except ValueError as e:
            raise UsageError(str(e))
    env = make_env(0, test=True)
    recorder = rollout = pages = None
    observers = []
    if args.method != 'none':
        recorder = SaliencyRecorder(
            video_dir, scale=args.scale, fps=env.step_rate,
            magnify=args.video_scale, live=args.render,
            save_maps=args.save_maps, composite=args.composite,
            action_names=env.action_meanings, method=args.method,
            background=args.background)
        observers.append(recorder)
        pages = PageRecorder(video_dir, '{} · {}'.format(
            args.env, os.path.basename(os.path.normpath(args.load))),
            args.method, env.action_meanings)
        observers.append(pages)
    if args.record_rollout:
        # Without maps to draw, the rollout still needs each step's policy.
        agent.saliency = agent.saliency or policy_only
        meta = dict(agent.checkpoint_info, checkpoint=(
            os.path.abspath(args.load) if args.load else None),
            seed=args.seed)
        rollout = RolloutRecorder(args.record_rollout, meta)
        observers.append(rollout)
    try:
        # Batch-one inference gains nothing from BLAS threads, and they
        # spin against any other load on the machine.
        with chainer.using_config('train', False), \
                threadpool_limits(limits=1):
            scores = episodes.play_episodes(
                env, agent, n_episodes=(None if args.eval_n_steps
                                        else args.eval_n_runs),
                n_steps=args.eval_n_steps,
                max_episode_len=args.max_episode_len, observers=observers)
    finally:
        # Also on Ctrl-C or SIGTERM (a second one waits for this): the
        # frames done are written, complete files are listed, partial ones
        # removed.
        with signals_deferred():
            failures = _finish_demo_outputs(args, env, recorder, rollout,
                                            video_dir, pages)
    if failures:
        raise OutputError('; '.join(failures))
    stats = episodes.summary(scores)
    print('n_runs: {} mean: {} median: {} stdev: {}'.format(
        len(scores), stats['mean'], stats['median'], stats['stdev']),
        flush=True)
    return 0


def _finish_demo_outputs(args, env, recorder, rollout, video_dir,
                         pages=None):
    """Close the environment and the outputs; returns what failed."""
    failures = []
    try:
        env.close()             # finishes the --monitor video
    except OutputError as e:
        failures.append(str(e))
    for observer, heading in (
            (recorder, 'saliency files ({} saliency) in {}:'.format(
                args.method, video_dir)),
            (pages, 'pages to browse (open in a browser):')):
        if observer is None:
            continue
        try:
            observer.close()
        except OutputError as e:
            failures.append(str(e))
        if observer.files:
            print(heading, flush=True)
            for path in observer.files:
                print('  ' + path, flush=True)
    if rollout is not None:
        try:
            path = rollout.close()
        except OutputError as e:
            failures.append(str(e))
        else:
            if path:
                print('rollout of {} steps: {}'.format(len(rollout), path),
                      flush=True)
    return failures


def main(argv=None):
    """Entry point; returns the process exit status."""
    return run_main(build_parser(), run, argv)


if __name__ == '__main__':
    sys.exit(main())
