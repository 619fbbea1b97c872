"""Train a segmentor (Polyp-PVT teacher, student, or KDAS distillation) from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp [bf16|fp16]]
                          [--device auto|cuda|cpu] [--cfg-options k=v ...]
                          [--launcher none|pytorch|slurm]

Single process by default; ``tools/dist_train.sh CONFIG N`` starts N processes with
torchrun (CUDA: NCCL; CPU: gloo). ``--device auto`` (the default) trains on the GPU, and on
the CPU only on a machine without one; a GPU that is there but unusable (e.g. a driver too
old for the torch build) stops the run with the reason, as ``--device cuda`` does.

Every run saves checkpoints atomically (``AtomicCheckpointHook``) and stops with an error
at the first NaN or infinite loss (``DivergenceGuardHook``), whatever its config says.
``--resume`` resumes from the newest checkpoint of the work dir that loads, naming the
newer ones it skipped; with none it says so and trains from scratch.
"""
import argparse
import os
import sys

from mmengine.config import DictAction
from mmengine.runner import Runner

from kdas.engine import (NonFiniteWeightsError, TrainingDivergedError,
                         mixed_precision_wrapper)
from kdas.engine.resume import configure_resume, resume_problem
from kdas.engine.safeguards import install_safeguards, missing_weights, schedule_problems
from kdas.utils.launch import (DEVICES, finish_distributed, load_run_config,
                               prepare_cpu_distributed, select_device)
from kdas.utils.output_files import OutputError, ensure_output_dir


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or from the latest checkpoint in the work dir when no '
        'path is given')
    parser.add_argument(
        '--amp', nargs='?', const='bf16', choices=['bf16', 'fp16'],
        help='mixed precision: bf16 (the default of --amp; GPUs from Ampere on, and CPUs) '
        'or fp16 (GPU, with dynamic loss scaling); weights stay float32')
    parser.add_argument('--device', choices=DEVICES, default='auto',
                        help='where to train (default: the GPU if there is one)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args):
    try:
        cfg = load_run_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    except (FileNotFoundError, KeyError, SyntaxError, TypeError, ValueError) as err:
        sys.exit(f'error: config {args.config}: {err}')
    if args.amp:
        cfg.optim_wrapper = mixed_precision_wrapper(cfg.optim_wrapper, args.amp, args.device)
    install_safeguards(cfg)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    args.device = select_device(args.device)
    cfg = build_config(args)
    problems = schedule_problems(cfg) + missing_weights(cfg)
    if problems:
        sys.exit('error: ' + '\nerror: '.join(problems))
    if args.resume is not None:
        try:
            for message in configure_resume(cfg, args.resume):
                print(f'[kdas] {message}', flush=True)
        except ValueError as err:
            sys.exit(f'error: {err}')
    if cfg.get('load_from') and not cfg.get('resume'):
        problem = resume_problem(cfg.load_from, training_state=False)
        if problem:
            sys.exit(f'error: cannot load load_from={cfg.load_from}: {problem}')
    try:
        ensure_output_dir(cfg.work_dir, 'work dir')
    except OutputError as err:
        sys.exit(f'error: {err}')
    prepare_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    except (TrainingDivergedError, NonFiniteWeightsError, OutputError) as err:
        runner.logger.error(str(err))  # into the run log too
        sys.exit(f'error: {err}')
    finish_distributed()


if __name__ == '__main__':
    main()
