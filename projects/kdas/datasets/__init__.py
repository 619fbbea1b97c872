from ..utils.random_state import SeededIndex
from .polyp import (CVC300Dataset, CVCClinicDBDataset, CVCColonDBDataset,
                    ETISLaribPolypDBDataset, KvasirSEGDataset, PolypDataset,
                    PolypTestDataset, PolypTrainDataset, TEST_SUBSETS, TRAIN_SUBSETS,
                    validate_pairs)
from .seeded_sampler import EpochSeededSampler
from .transforms import LoadPolypAnnotation, LoadPolypImageFromFile, binarize_polyp_mask

__all__ = [
    'CVC300Dataset', 'CVCClinicDBDataset', 'CVCColonDBDataset', 'EpochSeededSampler',
    'ETISLaribPolypDBDataset', 'KvasirSEGDataset', 'LoadPolypAnnotation',
    'LoadPolypImageFromFile', 'PolypDataset', 'PolypTestDataset', 'PolypTrainDataset',
    'SeededIndex', 'TEST_SUBSETS', 'TRAIN_SUBSETS', 'binarize_polyp_mask', 'validate_pairs'
]
