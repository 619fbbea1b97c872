"""Training throughput of a config: images per second over N iterations.

    python tools/analysis_tools/train_speed.py CONFIG [--iters 50] [--warmup 5]
        [--batch 16] [--size 352] [--amp bf16|fp16] [--device auto|cuda|cpu]
        [--teacher-checkpoint PATH | --random-teacher] [--cfg-options k=v ...]

Runs MMEngine's runner on the config's training data for ``--warmup + --iters`` iterations
and prints the median and mean time per iteration and the images per second
(kdas.benchmarking.training_speed). ``--random-teacher`` builds a distillation config's
teacher from random weights: for timing only, said so in the output. ``--out FILE``
appends one JSON line (the file is rewritten atomically: its earlier lines survive a kill).
"""
import argparse
import json
import os.path as osp
import sys
import tempfile

from mmengine.config import DictAction

from kdas.benchmarking.training_speed import (iteration_times, save_random_teacher, speed_row,
                                              timing_config)
from kdas.utils.launch import DEVICES, load_run_config, select_device
from kdas.utils.output_files import (OutputError, append_line, ensure_output_dir,
                                     refuse_overwrite)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Training images per second of a config')
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--batch', type=int, help='batch size per process (default: config)')
    parser.add_argument('--size', type=int, help='training size (default: config)')
    parser.add_argument('--amp', choices=['bf16', 'fp16'])
    parser.add_argument('--device', choices=DEVICES, default='auto')
    parser.add_argument('--workers', type=int, default=4)
    teacher = parser.add_mutually_exclusive_group()
    teacher.add_argument('--teacher-checkpoint')
    teacher.add_argument('--random-teacher', action='store_true')
    parser.add_argument('--label', help='row label in the output')
    parser.add_argument('--out', help='append a JSON line here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.iters < 1 or args.warmup < 0:
        parser.error('--iters must be at least 1 and --warmup at least 0')
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.out:
            refuse_overwrite(args.out, [p for p in (args.config, args.teacher_checkpoint) if p],
                             what='--out')
            ensure_output_dir(osp.dirname(osp.abspath(args.out)))
    except OutputError as err:
        sys.exit(f'error: {err}')
    device = select_device(args.device)
    with tempfile.TemporaryDirectory(prefix='kdas_speed_') as work:
        cfg = load_run_config(args.config, args.cfg_options, work)
        cfg = timing_config(cfg, args.warmup + args.iters, args.workers, device, args.batch,
                            args.size, args.amp)
        note = ''
        distilled = cfg.model.type == 'DistillationSegmentor'
        if (args.random_teacher or args.teacher_checkpoint) and not distilled:
            sys.exit(f'error: {args.config} trains no teacher-student pair: '
                     '--random-teacher / --teacher-checkpoint do not apply')
        if args.random_teacher:
            cfg.model.teacher_checkpoint = save_random_teacher(cfg, work)
            note = ' (random teacher: timing only)'
        elif args.teacher_checkpoint:
            cfg.model.teacher_checkpoint = args.teacher_checkpoint
        times = iteration_times(cfg)
    row = speed_row(cfg, times, args.warmup, device, args.label or osp.basename(args.config),
                    args.amp)
    print(f'{row["label"]}{note}: {device}, {row["precision"]}, batch {row["batch"]}, '
          f'{row["scales"]} scale(s): {row["s_per_iter_median"]:.3f} s/iter (median of '
          f'{row["iters"]}), {row["images_per_s"]:.1f} images/s')
    if args.out:
        try:
            append_line(args.out, json.dumps(row), what='speed rows')
        except OutputError as err:
            sys.exit(f'error: {err}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
