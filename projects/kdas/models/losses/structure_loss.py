"""The structure loss of PraNet / Polyp-PVT: boundary-weighted BCE + weighted IoU."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS


def structure_loss(logit, target, valid=None, kernel_size=31, boundary_weight=5.0,
                   weighted_bce=True):
    """Weighted BCE + weighted IoU of one-channel logits against a binary mask.

    Pixels near the mask boundary weigh ``1 + boundary_weight * |avgpool(G) - G|`` (a
    ``kernel_size`` window, stride 1, zero padding counted). Both terms are per image
    (weighted sums over pixels) and averaged over the batch.

    Unlike the public PraNet code, whose ``F.binary_cross_entropy_with_logits(...,
    reduce='none')`` silently falls back to an unweighted mean, the BCE here is weighted
    as the paper describes; ``weighted_bce=False`` reproduces the public code (the BCE is
    the plain mean over every pixel of the batch; the IoU term stays weighted).

    Args:
        logit (Tensor): B x 1 x H x W logits.
        target (Tensor): B x 1 x H x W (or B x H x W) mask in {0, 1}.
        valid (Tensor, optional): same shape as ``target``; 0 excludes a pixel.
    """
    if target.dim() == 3:
        target = target.unsqueeze(1)
    target = target.to(logit.dtype)
    weight = 1 + boundary_weight * torch.abs(
        F.avg_pool2d(target, kernel_size, stride=1, padding=kernel_size // 2) - target)
    if valid is not None:
        weight = weight * valid.reshape(weight.shape).to(weight.dtype)
    bce = F.binary_cross_entropy_with_logits(logit, target, reduction='none')
    if weighted_bce:
        wbce = (weight * bce).sum(dim=(2, 3)) / weight.sum(dim=(2, 3)).clamp_min(1e-12)
    elif valid is None:
        wbce = bce.mean()
    else:
        mask = valid.reshape(bce.shape).to(bce.dtype)
        wbce = (bce * mask).sum() / mask.sum().clamp_min(1)
    prob = torch.sigmoid(logit)
    inter = (prob * target * weight).sum(dim=(2, 3))
    union = ((prob + target) * weight).sum(dim=(2, 3))
    wiou = 1 - (inter + 1) / (union - inter + 1)
    return (wbce + wiou).mean()


@MODELS.register_module()
class StructureLoss(nn.Module):
    """MMSegmentation loss wrapper of :func:`structure_loss`.

    Args:
        kernel_size (int): Window of the boundary weight (31 in PraNet).
        boundary_weight (float): Extra weight of boundary pixels (5 in PraNet).
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key prefix in the log.
        weighted_bce (bool): Boundary-weighted BCE (the paper). False: the public code's
            unweighted mean BCE (see :func:`structure_loss`).
    """

    def __init__(self, kernel_size=31, boundary_weight=5.0, loss_weight=1.0,
                 loss_name='loss_structure', weighted_bce=True):
        super().__init__()
        self.weighted_bce = weighted_bce
        self.kernel_size = kernel_size
        self.boundary_weight = boundary_weight
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, logit, label, weight=None, ignore_index=255, **kwargs):
        if label.dim() == 3:
            label = label.unsqueeze(1)
        valid = label != ignore_index
        target = torch.where(valid, label, torch.zeros_like(label))
        if target.max() > 1:
            raise ValueError(f'StructureLoss expects a binary (0/1) or soft mask in [0, 1]; got '
                             f'values up to '
                             f'{float(target.max()):g}. Check the dataset\'s label threshold.')
        return self.loss_weight * structure_loss(
            logit, target, valid if not bool(valid.all()) else None, self.kernel_size,
            self.boundary_weight, self.weighted_bce)

    @property
    def loss_name(self):
        return self._loss_name
