"""Distributed launch on machines without CUDA.

MMEngine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and so fails on a CPU.
Initialising a gloo process group before the Runner is built makes the Runner skip its
own initialisation; DDP then needs ``device_ids=None``.
"""
import os

import torch
import torch.distributed as dist


def prepare_cpu_distributed(cfg, launcher: str) -> bool:
    """For ``launcher='pytorch'`` without CUDA: joins a gloo process group (from the
    torchrun environment) and sets up the config for CPU DDP. Returns whether it did."""
    if launcher != 'pytorch' or torch.cuda.is_available():
        return False
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher pytorch needs torchrun\'s environment; {missing} '
                           'unset. Start with tools/dist_train.sh or torchrun.')
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    wrapper.update(device_ids=None)
    cfg.model_wrapper_cfg = wrapper
    return True
