"""Training throughput of a config: MMEngine's runner on the config's training data for a
few iterations (iteration-based, no validation, no checkpoints), timed per iteration.

Images per second count every scale of the multi-scale schedule as the public code counts
an epoch: the images of the batch, once.
"""
import os.path as osp
import statistics
import time
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.runner import Runner

from ..engine.optim_wrapper import mixed_precision_wrapper


class IterTimer(Hook):
    """Wall time of each training iteration (synchronised on the GPU)."""

    def __init__(self, sink: List[float]):
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


def save_random_teacher(cfg, folder: str) -> str:
    """A distillation config's teacher with random weights, saved in ``folder``: for timing
    only (its outputs mean nothing)."""
    import torch
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    teacher = MODELS.build(cfg.model.teacher)
    teacher.init_weights()
    path = osp.join(folder, 'random_teacher_for_timing.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def timing_config(cfg, iterations: int, workers: int, device: str, batch: Optional[int] = None,
                  size: Optional[int] = None, amp: Optional[str] = None):
    """``cfg`` rewritten to train ``iterations`` iterations and nothing else: an infinite
    sampler, no validation, no checkpoint, the batch, size and precision asked for."""
    loader = cfg.train_dataloader
    loader.update(sampler=dict(type='InfiniteSampler', shuffle=True),
                  num_workers=workers, persistent_workers=workers > 0)
    if batch:
        loader.batch_size = batch
    if size:
        for t in loader.dataset.pipeline:
            if t['type'] == 'Resize':
                t['scale'] = (size, size)
        cfg.model.train_base_size = size
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iterations,
                         val_interval=iterations + 1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=iterations + 1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(1, iterations // 5))
    cfg.log_processor = dict(by_epoch=False)
    cfg.auto_scale_lr = dict(enable=False)
    if amp:
        cfg.optim_wrapper = mixed_precision_wrapper(cfg.optim_wrapper, amp, device)
    return cfg


def iteration_times(cfg) -> List[float]:
    """Seconds of each training iteration of ``cfg`` (see :func:`timing_config`)."""
    times = []
    runner = Runner.from_cfg(cfg)
    runner.register_hook(IterTimer(times), priority='LOWEST')
    runner.train()
    return times


def speed_row(cfg, times: List[float], warmup: int, device: str, label: str,
              amp: Optional[str]) -> dict:
    measured = times[warmup:]
    batch = cfg.train_dataloader.batch_size
    median = statistics.median(measured)
    rates = tuple(getattr(cfg.model, 'train_rates', (1.0, )))
    return dict(label=label, device=device, precision=amp or 'fp32', batch=batch,
                scales=len(rates), iters=len(measured), s_per_iter_median=median,
                s_per_iter_mean=statistics.fmean(measured), images_per_s=batch / median)
