"""Pixel-wise response KD on the logit maps, a distillation baseline that studies report
beside KDAS, usable from the same distiller."""
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .pairwise_map_loss import PairwiseMapLoss


def binary_kl(student: Tensor, teacher: Tensor, tau: float) -> Tensor:
    """tau^2 * KL(Bernoulli(sigmoid(T/tau)) || Bernoulli(sigmoid(S/tau))) per pixel, averaged
    over pixels and the batch (log-sigmoids keep it finite for large logits)."""
    s, t = student / tau, teacher / tau
    p_t = t.sigmoid()
    kl = (p_t * (F.logsigmoid(t) - F.logsigmoid(s)) +
          (1 - p_t) * (F.logsigmoid(-t) - F.logsigmoid(-s)))
    return tau**2 * kl.mean()


@MODELS.register_module()
class PixelResponseKDLoss(PairwiseMapLoss):
    """Response-based KD for one-channel logit maps: the binary KL of the temperature-scaled
    sigmoid probabilities at every pixel, summed over the selected maps (P1, P2).

    Args:
        tau (float): Temperature.
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key in the log.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0, loss_name='loss_pixel_kd'):
        super().__init__(tau, loss_weight, loss_name)

    def pair_loss(self, student: Tensor, teacher: Tensor) -> Tensor:
        return binary_kl(student, teacher, self.tau)
