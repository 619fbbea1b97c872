"""Polyp-PVT decode head: CIM + CFM + SAM with two one-channel logit maps."""
from typing import List, Tuple

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from .polyp_pvt_modules import CFM, CIM, SAM, conv_bn, resize_as


def check_pyramid(features, in_channels) -> None:
    """Raises ``ValueError`` unless ``features`` are four maps of ``in_channels`` channels,
    each half the size of the one before (strides 4, 8, 16 and 32). The head resizes every
    map to the one it is combined with, so a backbone of other strides would train without
    an error, only worse; a wrong channel count would fail deep inside a convolution."""
    def shapes():  # only for a message: not formatted on every forward
        return ', '.join('x'.join(str(d) for d in f.shape[1:]) for f in features)

    if len(features) != 4:
        raise ValueError(f'PolypPVTHead takes four backbone levels, got {len(features)} '
                         f'(C x H x W: {shapes()}): check the backbone\'s out_indices')
    channels = [f.shape[1] for f in features]
    if channels != list(in_channels):
        raise ValueError(f'model.decode_head.in_channels is {list(in_channels)} but the '
                         f'backbone gives {channels} channels (C x H x W: {shapes()}); set '
                         f'in_channels to {channels}')
    for i in range(1, 4):
        for dim in (-2, -1):
            if abs(2 * features[i].shape[dim] - features[i - 1].shape[dim]) > 1:
                raise ValueError(f'backbone level {i + 1} is not half the size of level {i} '
                                 f'(C x H x W: {shapes()}): PolypPVTHead needs strides 4, 8, '
                                 '16 and 32; check the backbone\'s strides, dilations and '
                                 'out_indices')


@MODELS.register_module()
class PolypPVTHead(BaseDecodeHead):
    """Decoder of Polyp-PVT (Dong et al., 2021).

    ``forward`` returns the two stride-8 logit maps ``(P1, P2)``: P1 from the CFM feature,
    P2 from the SAM feature. Training applies every loss of ``loss_decode`` to both maps
    (upsampled to the label size); inference uses ``P1 + P2``, which MMSegmentation turns
    into a mask with ``sigmoid > threshold`` since ``out_channels == 1``.

    Args:
        in_channels (Sequence[int]): Channels of the four backbone stages.
        channels (int): Decoder width C (32 in the paper).
        num_classes (int): 2 (background, polyp); stored as one logit channel.
        loss_decode (dict | list[dict]): Losses on each map, e.g. ``StructureLoss``.
    """

    def __init__(self, in_channels, channels=32, num_classes=2, out_channels=1, threshold=0.5,
                 norm_cfg=dict(type='BN', requires_grad=True),
                 loss_decode=dict(type='StructureLoss', loss_weight=1.0), init_cfg=None,
                 **kwargs):
        super().__init__(in_channels, channels, num_classes=num_classes,
                         out_channels=out_channels, threshold=threshold, norm_cfg=norm_cfg,
                         input_transform='multiple_select', in_index=(0, 1, 2, 3),
                         dropout_ratio=0., loss_decode=loss_decode, init_cfg=init_cfg,
                         **kwargs)
        if self.out_channels != 1:
            raise ValueError('PolypPVTHead predicts a single polyp logit: out_channels=1')
        # The base class builds a generic classifier this head does not use; drop it so
        # that it neither counts as a parameter nor leaves DDP with an unused one.
        del self.conv_seg
        c1, c2, c3, c4 = self.in_channels
        self.cim = CIM(c1, channels, self.norm_cfg)
        self.translate2 = conv_bn(c2, channels, 1, self.norm_cfg)
        self.translate3 = conv_bn(c3, channels, 1, self.norm_cfg)
        self.translate4 = conv_bn(c4, channels, 1, self.norm_cfg)
        self.cfm = CFM(channels, self.norm_cfg)
        self.sam = SAM(channels)
        self.out_cfm = nn.Conv2d(channels, 1, 1)
        self.out_sam = nn.Conv2d(channels, 1, 1)

    def forward(self, inputs) -> Tuple[Tensor, Tensor]:
        check_pyramid(inputs, self.in_channels)
        x4, x8, x16, x32 = self._transform_inputs(inputs)
        cfm_feature = self.cfm(self.translate4(x32), self.translate3(x16), self.translate2(x8))
        cim_feature = resize_as(self.cim(x4), cfm_feature)
        sam_feature = self.sam(cfm_feature, cim_feature)
        return self.out_cfm(cfm_feature), self.out_sam(sam_feature)

    def predict_by_feat(self, seg_logits, batch_img_metas: List[dict]) -> Tensor:
        p1, p2 = seg_logits
        return resize(p1 + p2, size=batch_img_metas[0]['img_shape'], mode='bilinear',
                      align_corners=self.align_corners)

    def loss_by_feat(self, seg_logits, batch_data_samples: SampleList) -> dict:
        seg_label = self._stack_batch_gt(batch_data_samples)
        losses = dict()
        loss_modules = (self.loss_decode if isinstance(self.loss_decode, nn.ModuleList) else
                        [self.loss_decode])
        for map_name, logit in zip(('p1', 'p2'), seg_logits):
            logit = resize(logit, size=seg_label.shape[2:], mode='bilinear',
                           align_corners=self.align_corners)
            # Losses in float32 under mixed precision (sigmoid/BCE near 0 and 1).
            with torch.autocast(logit.device.type, enabled=False):
                for loss_decode in loss_modules:
                    key = f'{loss_decode.loss_name}_{map_name}'
                    losses[key] = losses.get(key, 0) + loss_decode(
                        logit.float(), seg_label, ignore_index=self.ignore_index)
        return losses

    def init_weights(self):
        # torch's defaults, as in the official code (BaseDecodeHead would re-init conv_seg).
        for module in self.modules():
            if module is not self and hasattr(module, 'init_weights'):
                module.init_weights()
