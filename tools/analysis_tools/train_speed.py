"""Training throughput of a config: images per second over N iterations.

    python tools/analysis_tools/train_speed.py CONFIG [--iters 50] [--warmup 5]
        [--batch 16] [--size 352] [--amp bf16|fp16] [--device auto|cuda|cpu]
        [--teacher-checkpoint PATH | --random-teacher] [--cfg-options k=v ...]

Runs MMEngine's runner on the config's training data for ``--warmup + --iters`` iterations
(iteration-based, no validation, no checkpoints) and prints the median and mean time per
iteration and the images per second, counting every scale of the multi-scale schedule as
the public code counts an epoch (images of the batch, once). ``--random-teacher`` builds a
KDAS run's teacher from random weights, saved to a temporary file: for timing only, said so
in the output. ``--out FILE`` appends one JSON line.
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import tempfile
import time

from mmengine.config import DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

from kdas.engine import mixed_precision_wrapper
from kdas.utils.launch import DEVICES, load_run_config, select_device


class IterTimer(Hook):
    """Wall time of each training iteration (synchronised on the GPU)."""

    def __init__(self, sink):
        self.sink = sink
        self._start = None

    def _sync(self):
        import torch
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._sync()
        self._start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._sync()
        self.sink.append(time.perf_counter() - self._start)


def random_teacher(cfg, folder):
    import torch
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    teacher = MODELS.build(cfg.model.teacher)
    teacher.init_weights()
    path = osp.join(folder, 'random_teacher_for_timing.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def main(argv=None):
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

    device = select_device(args.device)
    work = tempfile.mkdtemp(prefix='kdas_speed_')
    cfg = load_run_config(args.config, args.cfg_options, work)
    total = args.warmup + args.iters
    loader = cfg.train_dataloader
    loader.update(sampler=dict(type='InfiniteSampler', shuffle=True),
                  num_workers=args.workers, persistent_workers=args.workers > 0)
    if args.batch:
        loader.batch_size = args.batch
    if args.size:
        for t in loader.dataset.pipeline:
            if t['type'] == 'Resize':
                t['scale'] = (args.size, args.size)
        segmentor = cfg.model
        segmentor.train_base_size = args.size
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=total, val_interval=total + 1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=total + 1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(1, total // 5))
    cfg.log_processor = dict(by_epoch=False)
    cfg.auto_scale_lr = dict(enable=False)
    if args.amp:
        cfg.optim_wrapper = mixed_precision_wrapper(cfg.optim_wrapper, args.amp, device)
    note = ''
    if cfg.model.type == 'DistillationSegmentor':
        if args.random_teacher:
            cfg.model.teacher_checkpoint = random_teacher(cfg, work)
            note = ' (random teacher: timing only)'
        elif args.teacher_checkpoint:
            cfg.model.teacher_checkpoint = args.teacher_checkpoint

    times = []
    runner = Runner.from_cfg(cfg)
    runner.register_hook(IterTimer(times), priority='LOWEST')
    runner.train()
    measured = times[args.warmup:]
    batch = loader.batch_size
    median = statistics.median(measured)
    rates = tuple(getattr(cfg.model, 'train_rates', (1.0, )))
    row = dict(label=args.label or osp.basename(args.config), device=device,
               precision=args.amp or 'fp32', batch=batch, scales=len(rates),
               iters=len(measured), s_per_iter_median=median,
               s_per_iter_mean=statistics.fmean(measured), images_per_s=batch / median)
    print(f'{row["label"]}{note}: {device}, {row["precision"]}, batch {batch}, '
          f'{len(rates)} scale(s): {median:.3f} s/iter (median of {len(measured)}), '
          f'{row["images_per_s"]:.1f} images/s')
    if args.out:
        with open(args.out, 'a') as f:
            f.write(json.dumps(row) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
