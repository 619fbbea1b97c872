from .atomic_checkpoint_hook import (AtomicCheckpointHook, NonFiniteWeightsError,
                                     save_checkpoint_atomically)
from .divergence_guard_hook import DivergenceGuardHook, TrainingDivergedError
from .iteration_seed_hook import IterationSeedHook
from .optim_wrapper import AutocastOptimWrapper, mixed_precision_wrapper
from .report_hook import PolypReportHook, write_report
from .resume import find_resume_checkpoint, resume_problem
from .train_state_hook import TrainStateHook

__all__ = [
    'AtomicCheckpointHook', 'AutocastOptimWrapper', 'DivergenceGuardHook', 'IterationSeedHook',
    'NonFiniteWeightsError', 'PolypReportHook', 'TrainStateHook', 'TrainingDivergedError',
    'find_resume_checkpoint', 'mixed_precision_wrapper', 'resume_problem',
    'save_checkpoint_atomically', 'write_report'
]
