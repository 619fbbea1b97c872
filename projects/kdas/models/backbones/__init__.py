from mmseg.registry import MODELS

from .pvt_v2 import ARCH_SETTINGS, PVTv2

MODELS.register_module(module=PVTv2)

__all__ = ['ARCH_SETTINGS', 'PVTv2']
