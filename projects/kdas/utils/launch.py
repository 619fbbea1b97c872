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


def finish_distributed():
    """Leaves the process group at the end of a run. Left to the interpreter's exit, gloo's
    worker threads can be destroyed while still joinable, and the process aborts
    ("terminate called without an active exception") after its work is done, failing the
    job: seen on a loaded 2-core machine in a 2-process CPU run."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


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


DEVICES = ('auto', 'cuda', 'cpu')


def gpu_hardware_visible() -> bool:
    """Whether this machine shows an NVIDIA GPU to processes (device files or a driver
    tool), whatever torch makes of it."""
    import glob
    import shutil
    return bool(glob.glob('/dev/nvidia[0-9]*')) or shutil.which('nvidia-smi') is not None


def cuda_unavailable_reason() -> str:
    """Why ``torch.cuda.is_available()`` is False here, in words a user can act on."""
    if torch.version.cuda is None:
        return (f'this torch ({torch.__version__}) is a CPU-only build; reinstall a CUDA build '
                'with TORCH_CUDA=cuXYZ bash tools/setup_env.sh (README, "GPU nodes")')
    hidden = os.environ.get('CUDA_VISIBLE_DEVICES')
    if hidden is not None and hidden.strip() in ('', '-1'):
        return f'CUDA_VISIBLE_DEVICES={hidden!r} hides every GPU from this process'
    if not gpu_hardware_visible():
        return 'no NVIDIA GPU is visible (no /dev/nvidia* device, no nvidia-smi)'
    try:
        torch.cuda.init()
    except Exception as err:  # torch words the driver problem; pass it on
        return (f'torch {torch.__version__} (CUDA {torch.version.cuda}) cannot use the GPU: '
                f'{err}. If the driver is too old for this CUDA build, install the torch '
                'build your driver supports (nvidia-smi shows its CUDA version): '
                'TORCH_CUDA=cu126 bash tools/setup_env.sh')
    return 'torch reports no usable GPU'


def select_device(requested: str) -> str:
    """'cuda' or 'cpu' for ``--device`` (auto, cuda or cpu), never silently the CPU where a
    GPU was asked for or is installed but unusable.

    - ``cpu``: hides the GPUs from this process (and its workers), so MMEngine trains on the
      CPU even on a GPU node;
    - ``cuda``: stops with the reason when torch cannot use a GPU;
    - ``auto``: the GPU when usable; on a machine with no GPU at all, the CPU, said on
      stderr; a GPU that is there but unusable (driver too old for the torch build) stops
      the run as ``cuda`` does.
    """
    if requested not in DEVICES:
        raise ValueError(f'--device must be one of {DEVICES}, got {requested!r}')
    if requested == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
        return 'cpu'
    if torch.cuda.is_available():
        return 'cuda'
    if requested == 'auto' and not gpu_hardware_visible():
        import sys
        print('[kdas] no GPU on this machine: running on the CPU (--device cpu says so '
              'explicitly; --device cuda would stop here)', file=sys.stderr)
        return 'cpu'
    raise SystemExit(f'error: a GPU was asked for (--device {requested}) but cannot be used: '
                     f'{cuda_unavailable_reason()}. Pass --device cpu to train on the CPU.')
