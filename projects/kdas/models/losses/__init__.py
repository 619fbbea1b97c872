from .baseline_kd_losses import ChannelWiseDivergenceLoss, PixelResponseKDLoss
from .distillation_losses import AttentionSupervisionLoss, SGMLoss
from .structure_loss import StructureLoss, structure_loss

__all__ = [
    'AttentionSupervisionLoss', 'ChannelWiseDivergenceLoss', 'PixelResponseKDLoss', 'SGMLoss',
    'StructureLoss', 'structure_loss'
]
