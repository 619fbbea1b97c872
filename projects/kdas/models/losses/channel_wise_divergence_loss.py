"""Channel-wise distillation of feature maps, a distillation baseline usable from the same
distiller as the KDAS terms."""
from mmseg.registry import MODELS
from torch import Tensor

from .pairwise_map_loss import PairwiseMapLoss, spatial_kl


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
