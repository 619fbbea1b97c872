from .distillation_losses import AttentionSupervisionLoss, SGMLoss
from .structure_loss import StructureLoss, structure_loss

__all__ = ['AttentionSupervisionLoss', 'SGMLoss', 'StructureLoss', 'structure_loss']
