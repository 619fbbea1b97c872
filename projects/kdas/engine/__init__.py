from .optim_wrapper import AutocastOptimWrapper, mixed_precision_wrapper

__all__ = ['AutocastOptimWrapper', 'mixed_precision_wrapper']
