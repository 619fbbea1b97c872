"""Distillation baselines that studies report beside KDAS, usable from the same distiller:
pixel-wise response KD on the logit maps, and channel-wise distillation of feature maps.

Like the KDAS terms, each takes lists of student and teacher maps, compares the k-th with
the k-th, and passes gradients to the student only.
"""
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from .distillation_losses import PairwiseMapLoss, spatial_kl


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


@MODELS.register_module()
class ChannelWiseDivergenceLoss(PairwiseMapLoss):
    """Channel-wise distillation (Shu et al., ICCV 2021; MMRazor's ChannelWiseDivergence):
    each channel becomes a distribution over its H x W positions (softmax at temperature
    tau), and the student's is pulled to the teacher's by KL, tau^2-scaled, averaged over
    channels and the batch. Student and teacher maps need the same channels (Polyp-PVT's
    decoder features have 32 in both networks).

    Args:
        tau (float): Temperature (4 in the paper's segmentation setting).
        loss_weight (float): Multiplier of the loss (3 in the paper for segmentation).
        loss_name (str): Key in the log.
    """

    def __init__(self, tau: float = 4.0, loss_weight: float = 1.0, loss_name='loss_cwd'):
        super().__init__(tau, loss_weight, loss_name)

    def pair_loss(self, student: Tensor, teacher: Tensor) -> Tensor:
        # spatial_kl sums over channels and averages over the batch; CWD also averages
        # over channels.
        return spatial_kl(student, teacher, self.tau) / student.shape[1]
