from .iteration_seed_hook import IterationSeedHook
from .optim_wrapper import AutocastOptimWrapper, mixed_precision_wrapper
from .report_hook import PolypReportHook, write_report
from .train_state_hook import TrainStateHook

__all__ = [
    'AutocastOptimWrapper', 'IterationSeedHook', 'PolypReportHook', 'TrainStateHook',
    'mixed_precision_wrapper', 'write_report'
]
