from .backbones import PVTv2
from .decode_heads import PolypPVTHead
from .distillers import KDASDistiller, RecordingDistiller
from .losses import AttentionSupervisionLoss, SGMLoss, StructureLoss
from .segmentors import DistillationSegmentor, PolypEncoderDecoder

__all__ = [
    'AttentionSupervisionLoss', 'DistillationSegmentor', 'KDASDistiller', 'PVTv2',
    'PolypEncoderDecoder', 'PolypPVTHead', 'RecordingDistiller', 'SGMLoss', 'StructureLoss'
]
