from .polyp import (CVC300Dataset, CVCClinicDBDataset, CVCColonDBDataset,
                    ETISLaribPolypDBDataset, KvasirSEGDataset, PolypDataset,
                    PolypTestDataset, PolypTrainDataset, TEST_SUBSETS, TRAIN_SUBSETS)
from .seeded_sampler import EpochSeededSampler, SeededIndex
from .transforms import LoadPolypAnnotation, binarize_polyp_mask

__all__ = [
    'CVC300Dataset', 'CVCClinicDBDataset', 'CVCColonDBDataset', 'EpochSeededSampler',
    'ETISLaribPolypDBDataset', 'KvasirSEGDataset', 'LoadPolypAnnotation', 'PolypDataset',
    'PolypTestDataset', 'PolypTrainDataset', 'SeededIndex', 'TEST_SUBSETS', 'TRAIN_SUBSETS',
    'binarize_polyp_mask'
]
