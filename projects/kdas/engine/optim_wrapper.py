"""Mixed precision for training on the CPU and the GPU.

MMEngine's ``AmpOptimWrapper`` refuses to run without a GPU, and its gradient scaler is
only needed for float16. bfloat16 has float32's exponent range, so autocast alone is
enough: :class:`AutocastOptimWrapper` runs the forward pass under ``torch.autocast`` on
any device and steps as the plain wrapper does. Weights and optimiser state stay float32;
the losses are computed in float32 (see the decode head and the distiller).
"""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward passes run under ``torch.autocast(device_type,
    dtype)``. For bfloat16 (no loss scaling); float16 on a GPU wants MMEngine's
    ``AmpOptimWrapper`` instead, which scales the loss.

    Args:
        device_type (str): ``'cpu'`` or ``'cuda'``.
        dtype (str): ``'bfloat16'``.
    """

    def __init__(self, *args, device_type: str = 'cpu', dtype: str = 'bfloat16', **kwargs):
        super().__init__(*args, **kwargs)
        if dtype != 'bfloat16':
            raise ValueError(f'AutocastOptimWrapper is for bfloat16 (no loss scaling); got '
                             f'{dtype!r}: use AmpOptimWrapper for float16 on a GPU')
        self.device_type = device_type
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(self.device_type,
                                                          dtype=self.cast_dtype):
            yield


def mixed_precision_wrapper(optim_wrapper: dict, precision: str, device: str) -> dict:
    """The config's optimiser wrapper, turned into a mixed-precision one.

    Args:
        precision (str): ``'bf16'`` or ``'fp16'``.
        device (str): ``'cpu'`` or ``'cuda'``.
    """
    if precision not in DTYPES:
        raise ValueError(f'precision must be bf16 or fp16, got {precision!r}')
    cfg = dict(optim_wrapper)
    if precision == 'bf16':
        cfg.update(type='AutocastOptimWrapper', device_type=device, dtype='bfloat16')
    elif device != 'cuda':
        raise ValueError('float16 training needs a GPU (the CPU has no float16 kernels for '
                         'most of these layers); use --amp bf16 on the CPU')
    else:
        cfg.update(type='AmpOptimWrapper', dtype='float16', loss_scale='dynamic')
    return cfg
