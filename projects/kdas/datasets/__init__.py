from .polyp import (CVC300Dataset, CVCClinicDBDataset, CVCColonDBDataset,
                    ETISLaribPolypDBDataset, KvasirSEGDataset, PolypDataset)
from .transforms import LoadPolypAnnotation, binarize_polyp_mask

__all__ = [
    'CVC300Dataset', 'CVCClinicDBDataset', 'CVCColonDBDataset', 'ETISLaribPolypDBDataset',
    'KvasirSEGDataset', 'LoadPolypAnnotation', 'PolypDataset', 'binarize_polyp_mask'
]
