"""What the distillation losses share: each takes lists of student and teacher maps
(B x C x H x W, C == 1 for logit maps), compares the k-th student map with the k-th teacher
map, and passes gradients to the student only."""
from typing import Sequence

import torch.nn as nn
import torch.nn.functional as F
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


def check_pairs(student_maps, teacher_maps):
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
        check_pairs(student_maps, teacher_maps)
        return self.loss_weight * sum(
            self.pair_loss(s, t.detach()) for s, t in zip(student_maps, teacher_maps))
