"""Conversion of public PVTv2 (ImageNet) and Polyp-PVT / KDAS checkpoints to this project's
key names, and of ImageNet CNN classifiers to the backbones of the CNN students, with strict
checks: a checkpoint converts only if every key and shape matches the architecture it is
converted for (kept beside the models, whose key names and shapes it converts to)."""
import re
import sys
from collections import OrderedDict
from typing import Dict, Optional

import torch
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.checkpoint import describe_mismatch, extract_state_dict
from ..utils.output_files import OutputError, atomic_output, refuse_overwrite
from ..utils.safe_checkpoint import safe_torch_load
from .backbones.pvt_v2 import ARCH_SETTINGS, PVTv2
from .decode_heads import PolypPVTHead

ARCH_NAMES = tuple(ARCH_SETTINGS)
# The CNN students' backbones (configs/_base_/models/students/), as MMSegmentation builds them.
CNN_BACKBONES = {
    'resnet18_v1c': dict(type='ResNetV1c', depth=18),
    'mobilenet_v2': dict(type='MobileNetV2', widen_factor=1.0, out_indices=(1, 2, 4, 6)),
}
# A classifier's keys that no segmentation backbone has: ResNet's fc, MMPretrain's head, and
# MMPretrain MobileNetV2's last 1x1 convolution to 1280 channels (absent in MMSegmentation's).
CLASSIFIER_PREFIXES = ('fc.', 'head.', 'conv2.')

# Official Polyp-PVT decoder prefixes -> ours (the backbone keeps its names).
POLYP_PVT_RENAMES = (
    ('Translayer2_0.', 'decode_head.cim.translate.'),
    ('Translayer2_1.', 'decode_head.translate2.'),
    ('Translayer3_1.', 'decode_head.translate3.'),
    ('Translayer4_1.', 'decode_head.translate4.'),
    ('ca.', 'decode_head.cim.ca.'),
    ('sa.', 'decode_head.cim.sa.'),
    ('CFM.', 'decode_head.cfm.'),
    ('SAM.', 'decode_head.sam.'),
    ('out_CFM.', 'decode_head.out_cfm.'),
    ('out_SAM.', 'decode_head.out_sam.'),
    ('backbone.', 'backbone.'),
)


def strip_module_prefix(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Removes the ``module.`` prefix that DataParallel checkpoints carry."""
    if state_dict and all(k.startswith('module.') for k in state_dict):
        return OrderedDict((k[len('module.'):], v) for k, v in state_dict.items())
    return state_dict


def infer_pvt_arch(backbone_state: Dict[str, Tensor]) -> str:
    """The PVTv2 variant (b0..b5) of a backbone state dict without prefix."""
    if 'patch_embed1.proj.weight' not in backbone_state:
        raise KeyError('not a PVTv2 state dict: patch_embed1.proj.weight is missing')
    width = backbone_state['patch_embed1.proj.weight'].shape[0]
    depths = tuple(
        len({m.group(1) for k in backbone_state for m in [re.match(rf'block{i}\.(\d+)\.', k)] if m})
        for i in range(1, 5))
    for name, settings in ARCH_SETTINGS.items():
        if settings['embed_dims'][0] == width and tuple(settings['depths']) == depths:
            return name
    raise ValueError(f'no PVTv2 variant has stage-1 width {width} and depths {depths}')


def expected_shapes(arch: str, with_head: bool) -> Dict[str, tuple]:
    """Key -> shape of our PVTv2 backbone (``with_head=False``, no prefix) or of a whole
    Polyp-PVT segmentor (``backbone.`` and ``decode_head.`` prefixes)."""
    backbone = PVTv2(arch)
    shapes = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    if not with_head:
        return shapes
    head = PolypPVTHead(in_channels=list(backbone.embed_dims), channels=32)
    shapes = {f'backbone.{k}': v for k, v in shapes.items()}
    shapes.update({f'decode_head.{k}': tuple(v.shape) for k, v in head.state_dict().items()})
    return shapes


def _check(converted, expected, source):
    found = {k: tuple(v.shape) for k, v in converted.items()}
    problem = describe_mismatch(expected, found)
    if problem:
        raise ValueError(f'{source}: {problem}')


def convert_pvt_v2(state_dict: Dict[str, Tensor], arch: Optional[str] = None,
                   source: str = 'checkpoint') -> Dict[str, Tensor]:
    """Public PVTv2 ImageNet checkpoint (or one trained with mmpretrain and this
    project's config) -> backbone state dict for ``init_cfg=dict(type='Pretrained')``.
    The classification head is dropped."""
    state_dict = strip_module_prefix(state_dict)
    if any(k.startswith('backbone.') for k in state_dict):  # mmpretrain ImageClassifier
        state_dict = {k[len('backbone.'):]: v for k, v in state_dict.items()
                      if k.startswith('backbone.')}
    converted = OrderedDict((k, v) for k, v in state_dict.items() if not k.startswith('head.'))
    arch = arch or infer_pvt_arch(converted)
    _check(converted, expected_shapes(arch, with_head=False), f'{source} (PVTv2-{arch})')
    return converted


def convert_polyp_pvt(state_dict: Dict[str, Tensor], arch: Optional[str] = None,
                      source: str = 'checkpoint') -> Dict[str, Tensor]:
    """Public Polyp-PVT / KDAS checkpoint (teacher or student) -> this project's keys."""
    state_dict = strip_module_prefix(state_dict)
    converted = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        for old, new in POLYP_PVT_RENAMES:
            if key.startswith(old):
                converted[new + key[len(old):]] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(f'{source}: {len(unknown)} keys of no known Polyp-PVT module: '
                         f'{", ".join(unknown[:20])}')
    backbone = {k[len('backbone.'):]: v for k, v in converted.items() if k.startswith('backbone.')}
    arch = arch or infer_pvt_arch(backbone)
    _check(converted, expected_shapes(arch, with_head=True), f'{source} (Polyp-PVT, PVTv2-{arch})')
    return converted


def convert_cnn_backbone(state_dict: Dict[str, Tensor], arch: str,
                         source: str = 'checkpoint') -> Dict[str, Tensor]:
    """An ImageNet classifier of ``arch`` (a key of CNN_BACKBONES: MMSegmentation's
    ``open-mmlab://resnet18_v1c``, or MMPretrain's MobileNetV2 with its ``backbone.`` keys)
    -> the backbone's state dict for ``init_cfg=dict(type='Pretrained')``: the backbone's
    keys, without the classifier's."""
    if arch not in CNN_BACKBONES:
        raise ValueError(f'{source}: unknown CNN backbone {arch!r}; one of '
                         f'{", ".join(CNN_BACKBONES)}')
    state = strip_module_prefix(state_dict)
    if any(k.startswith('backbone.') for k in state):
        state = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    converted = OrderedDict((k, v) for k, v in state.items()
                            if not k.startswith(CLASSIFIER_PREFIXES))
    backbone = MODELS.build(CNN_BACKBONES[arch])
    _check(converted, {k: tuple(v.shape) for k, v in backbone.state_dict().items()},
           f'{source} ({arch})')
    return converted


def convert_file(src: str, dst: str, convert, arch: Optional[str] = None,
                 keep_meta: bool = True) -> int:
    """Command-line body of the converters: load ``src`` safely, ``convert`` it, save to
    ``dst`` (as ``dict(state_dict=..., meta=...)`` with ``keep_meta``, else the bare state
    dict that ``init_cfg=Pretrained`` reads). Returns an exit status; errors name the file
    and the keys, and nothing is written."""
    try:
        refuse_overwrite(dst, [src], 'output')
        converted = convert(extract_state_dict(safe_torch_load(src)), arch, source=src)
        with atomic_output(dst, 'converted checkpoint') as tmp:
            torch.save(dict(state_dict=converted, meta=dict(converted_from=src)) if keep_meta
                       else converted, tmp)
    except (OSError, RuntimeError, ValueError, KeyError, OutputError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'converted {len(converted)} tensors from {src} to {dst}')
    return 0
