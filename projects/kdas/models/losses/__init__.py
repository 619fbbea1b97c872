from .attention_supervision_loss import AttentionSupervisionLoss, row_self_attention
from .channel_wise_divergence_loss import ChannelWiseDivergenceLoss
from .pairwise_map_loss import PairwiseMapLoss, spatial_kl
from .pixel_response_kd_loss import PixelResponseKDLoss, binary_kl
from .sgm_loss import SGMLoss, symmetric_structure
from .structure_loss import StructureLoss, structure_loss

__all__ = [
    'AttentionSupervisionLoss', 'ChannelWiseDivergenceLoss', 'PairwiseMapLoss',
    'PixelResponseKDLoss', 'SGMLoss', 'StructureLoss', 'binary_kl', 'row_self_attention',
    'spatial_kl', 'structure_loss', 'symmetric_structure'
]
