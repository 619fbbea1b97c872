"""Distributed launch on machines without CUDA.

MMEngine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and so fails on a CPU.
Initialising a gloo process group before the Runner is built makes the Runner skip its
own initialisation; DDP then needs ``device_ids=None``.
"""
import os
import os.path as osp

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


def load_run_config(config: str, cfg_options=None, work_dir=None, launcher='none'):
    """The config of a train/test run: ``--cfg-options`` merged, the work dir defaulting
    to ``work_dirs/<config name>`` as in MMSegmentation's tools."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg
