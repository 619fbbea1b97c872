"""The two KDAS distillation terms: attention supervision (L_AT) and the Symmetrical
Guiding Module (L_SGM); the README's "The method" says where the public code differs.

Both take lists of student and teacher maps (B x C x H x W, C == 1 for logit maps), compare
the k-th student map with the k-th teacher map, and pass gradients to the student only.
"""
import math
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor


def spatial_kl(student: Tensor, teacher: Tensor, tau: float) -> Tensor:
    """tau^2 * KL(softmax(T/tau) || softmax(S/tau)) over all positions of each map,
    summed over positions and channels and averaged over the batch."""
    s = student.flatten(2) / tau
    t = teacher.flatten(2) / tau
    log_p_s = F.log_softmax(s, dim=-1)
    log_p_t = F.log_softmax(t, dim=-1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=(1, 2))
    return tau**2 * kl.mean()


def row_self_attention(maps: Tensor) -> Tensor:
    """A(P) = softmax(P P^T / sqrt(W)) P: rows of each H x W map attend to each other.

    Written out rather than through ``F.scaled_dot_product_attention``: here the map width
    plays the head dimension, and on CUDA in float32 the fused kernel PyTorch picks for
    such maps may have no kernel to launch for them (docs/benchmarks.md, "GPU training").
    The maps are 1/8 of the input wide, so a fused kernel would save nothing measurable."""
    scores = maps @ maps.transpose(-1, -2) / math.sqrt(maps.shape[-1])
    return scores.softmax(dim=-1) @ maps


def symmetric_structure(maps: Tensor) -> Tensor:
    """Sym(M) = M + M^T over the two spatial axes (square maps)."""
    if maps.shape[-1] != maps.shape[-2]:
        raise ValueError(f'symmetric structure needs square maps, got {tuple(maps.shape[-2:])}')
    return maps + maps.transpose(-1, -2)


def _check_pairs(student_maps, teacher_maps):
    if len(student_maps) != len(teacher_maps) or not student_maps:
        raise ValueError(f'need matching, non-empty lists of student and teacher maps; got '
                         f'{len(student_maps)} and {len(teacher_maps)}')
    for s, t in zip(student_maps, teacher_maps):
        if s.shape != t.shape:
            raise ValueError(f'student map {tuple(s.shape)} and teacher map {tuple(t.shape)} '
                             'differ in shape')


class PairwiseMapLoss(nn.Module):
    """A loss that compares the k-th student map with the k-th teacher map and sums over
    the pairs; subclasses define :meth:`pair_loss`. The teacher's maps are detached.

    Args:
        tau (float): Temperature.
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key in the log.
    """

    def __init__(self, tau: float, loss_weight: float, loss_name: str):
        super().__init__()
        self.tau = tau
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def pair_loss(self, student: Tensor, teacher: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, student_maps: Sequence[Tensor], teacher_maps: Sequence[Tensor]) -> Tensor:
        _check_pairs(student_maps, teacher_maps)
        return self.loss_weight * sum(
            self.pair_loss(s, t.detach()) for s, t in zip(student_maps, teacher_maps))


@MODELS.register_module()
class AttentionSupervisionLoss(PairwiseMapLoss):
    """L_AT = tau^2 * sum_k KL(softmax(A(P_k^T)/tau) || softmax(A(P_k^S)/tau)).

    Args:
        tau (float): Softmax temperature (2 in the paper).
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key in the log.
    """

    def __init__(self, tau: float = 2.0, loss_weight: float = 1.0, loss_name='loss_at'):
        super().__init__(tau, loss_weight, loss_name)

    def pair_loss(self, student: Tensor, teacher: Tensor) -> Tensor:
        return spatial_kl(row_self_attention(student), row_self_attention(teacher), self.tau)


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
        _check_pairs(student_maps, teacher_maps)
        student = self.cube(student_maps)
        teacher = self.cube([t.detach() for t in teacher_maps])
        if self.mode == 'mse':
            loss = F.mse_loss(student, teacher)
        else:
            loss = spatial_kl(student, teacher, self.tau)
        return self.loss_weight * loss
