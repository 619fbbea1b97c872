"""L_AT, KDAS's attention supervision term (docs/method.md says where the public code
differs)."""
import math

from mmseg.registry import MODELS
from torch import Tensor

from .pairwise_map_loss import PairwiseMapLoss, spatial_kl


def row_self_attention(maps: Tensor) -> Tensor:
    """A(P) = softmax(P P^T / sqrt(W)) P: rows of each H x W map attend to each other.

    Written out rather than through ``F.scaled_dot_product_attention``: here the map width
    plays the head dimension, and on CUDA in float32 the fused kernel PyTorch picks for
    such maps may have no kernel to launch for them (docs/benchmarks.md, "GPU training").
    The maps are 1/8 of the input wide, so a fused kernel would save nothing measurable."""
    scores = maps @ maps.transpose(-1, -2) / math.sqrt(maps.shape[-1])
    return scores.softmax(dim=-1) @ maps


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
