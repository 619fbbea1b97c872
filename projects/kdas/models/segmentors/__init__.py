from .distillation_segmentor import DistillationSegmentor
from .multi_scale_train import (MultiScaleDistributedDataParallel, MultiScaleTrainMixin,
                                rescale_batch, scaled_size)
from .polyp_encoder_decoder import PolypEncoderDecoder

__all__ = [
    'DistillationSegmentor', 'MultiScaleDistributedDataParallel', 'MultiScaleTrainMixin',
    'PolypEncoderDecoder', 'rescale_batch', 'scaled_size'
]
