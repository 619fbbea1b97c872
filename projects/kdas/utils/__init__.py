from .allocator import keep_freed_memory
from .checkpoint import describe_mismatch, extract_state_dict, load_weights
from .logs import read_scalars
from .launch import load_run_config, prepare_cpu_distributed, select_device
from .safe_checkpoint import install_safe_local_loader, safe_torch_load

__all__ = [
    'describe_mismatch', 'extract_state_dict', 'install_safe_local_loader', 'keep_freed_memory',
    'load_run_config', 'load_weights', 'prepare_cpu_distributed', 'read_scalars', 'safe_torch_load',
    'select_device'
]
