"""Registers the PVTv2 backbone in mmpretrain's ``MODELS`` too, so that mmpretrain's runner
can (pre-)train it for classification; import it with
``custom_imports = dict(imports=['kdas.pretrain'])``. The weights it saves load into the
segmentors after ``tools/model_converters/pvt2mmseg.py``."""
from mmpretrain.registry import MODELS

from .models.backbones.pvt_v2 import PVTv2

MODELS.register_module(name='PVTv2', module=PVTv2, force=True)
