from .polyp import (CVC300Dataset, CVCClinicDBDataset, CVCColonDBDataset,
                    ETISLaribPolypDBDataset, KvasirSEGDataset, PolypDataset,
                    PolypTestDataset, PolypTrainDataset, TEST_SUBSETS, TRAIN_SUBSETS)
from .transforms import LoadPolypAnnotation, binarize_polyp_mask

__all__ = [
    'CVC300Dataset', 'CVCClinicDBDataset', 'CVCColonDBDataset', 'ETISLaribPolypDBDataset',
    'KvasirSEGDataset', 'LoadPolypAnnotation', 'PolypDataset', 'PolypTestDataset',
    'PolypTrainDataset', 'TEST_SUBSETS', 'TRAIN_SUBSETS', 'binarize_polyp_mask'
]
