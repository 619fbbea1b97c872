"""L_SGM, KDAS's Symmetrical Guiding Module term (docs/method.md says where the public code
differs)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .pairwise_map_loss import check_pairs, spatial_kl


def symmetric_structure(maps: Tensor) -> Tensor:
    """Sym(M) = M + M^T over the two spatial axes (square maps)."""
    if maps.shape[-1] != maps.shape[-2]:
        raise ValueError(f'symmetric structure needs square maps, got {tuple(maps.shape[-2:])}')
    return maps + maps.transpose(-1, -2)


@MODELS.register_module()
class SGMLoss(nn.Module):
    """L_SGM: symmetric structures of the selected maps, pooled to s x s and stacked into a
    cube, compared by temperature-scaled spatial KL (per layer, summed) or by MSE.

    Args:
        pool_size (int, optional): s. None keeps the map's own (square) size, which is what
            the public reference code effectively does.
        mode (str): ``'kl'`` (the paper) or ``'mse'`` (the public code).
        tau (float): Temperature of the ``'kl'`` mode.
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key in the log.

    Adaptive average pooling to a square commutes with the transpose, so maps are pooled
    first and symmetrised after; for square maps this equals symmetrising first, and it is
    how non-square maps are handled.
    """

    def __init__(self, pool_size: Optional[int] = 64, mode: str = 'kl', tau: float = 2.0,
                 loss_weight: float = 1.0, loss_name='loss_sgm'):
        super().__init__()
        if mode not in ('kl', 'mse'):
            raise ValueError(f"SGMLoss mode must be 'kl' or 'mse', got {mode!r}")
        self.pool_size = pool_size
        self.mode = mode
        self.tau = tau
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def cube(self, maps: Sequence[Tensor]) -> Tensor:
        layers = []
        for m in maps:
            if m.shape[1] != 1:  # decoder features count as one layer: their channel mean
                m = m.mean(dim=1, keepdim=True)
            if self.pool_size is not None:
                m = F.adaptive_avg_pool2d(m, self.pool_size)
            layers.append(symmetric_structure(m))
        return torch.cat(layers, dim=1)

    def forward(self, student_maps: Sequence[Tensor], teacher_maps: Sequence[Tensor]) -> Tensor:
        check_pairs(student_maps, teacher_maps)
        student = self.cube(student_maps)
        teacher = self.cube([t.detach() for t in teacher_maps])
        if self.mode == 'mse':
            loss = F.mse_loss(student, teacher)
        else:
            loss = spatial_kl(student, teacher, self.tau)
        return self.loss_weight * loss
