"""Polyp segmentation datasets: ``images/`` + ``masks/`` pairs matched by file stem."""
import os.path as osp
from typing import List, Optional

import mmengine
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')


def index_by_stem(folder: str, what: str) -> dict:
    """stem -> file name of every image-like file in ``folder``; duplicate stems are an
    error because they make the pairing ambiguous."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{what} folder {folder} does not exist')
    index = {}
    for name in sorted(mmengine.list_dir_or_file(folder, list_dir=False)):
        stem, ext = osp.splitext(name)
        if ext.lower() not in IMAGE_EXTENSIONS:
            continue
        if stem in index:
            raise ValueError(f'{what} folder {folder} holds two files with stem {stem!r}: '
                             f'{index[stem]} and {name}')
        index[stem] = name
    return index


@DATASETS.register_module()
class PolypDataset(BaseSegDataset):
    """A binary polyp dataset laid out as ``data_root/images`` and ``data_root/masks``.

    Image and mask of a pair share a file stem; their extensions may differ. Masks are
    binarised by :class:`LoadPolypAnnotation`. Label 1 is the polyp.

    Args:
        data_root (str): Dataset folder.
        split (str, optional): Text file of stems (one a line), relative to ``data_root``
            or absolute. Without it, every image with a mask is used.
        data_prefix (dict): Sub-folders of images and masks.
        dataset_name (str, optional): Name reported by the metric; defaults to the class's
            ``DEFAULT_NAME`` or the folder name.
    """
    METAINFO = dict(classes=('background', 'polyp'), palette=[[0, 0, 0], [255, 255, 255]])
    DEFAULT_NAME: Optional[str] = None

    def __init__(self, data_root: str, split: Optional[str] = None,
                 data_prefix=dict(img_path='images', seg_map_path='masks'),
                 dataset_name: Optional[str] = None, **kwargs):
        self.split_file = split
        self.dataset_name = (dataset_name or self.DEFAULT_NAME or
                             osp.basename(osp.normpath(data_root)))
        super().__init__(data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix['img_path']
        mask_dir = self.data_prefix['seg_map_path']
        images = index_by_stem(img_dir, 'image')
        masks = index_by_stem(mask_dir, 'mask')
        if self.split_file is not None:
            split = self.split_file
            if not osp.isabs(split) and self.data_root:
                split = osp.join(self.data_root, split)
            if not osp.isfile(split):
                raise FileNotFoundError(f'split file {split} does not exist')
            stems = [ln.strip() for ln in open(split) if ln.strip()]
            absent = [s for s in stems if s not in images or s not in masks]
            if absent:
                raise FileNotFoundError(
                    f'split file {split} names {len(absent)} stems without an image or '
                    f'mask in {img_dir} / {mask_dir}: {", ".join(absent[:10])}')
        else:
            stems = sorted(set(images) & set(masks))
            if not stems:
                raise FileNotFoundError(f'no image/mask pairs in {img_dir} and {mask_dir}')
        return [
            dict(img_path=osp.join(img_dir, images[s]), seg_map_path=osp.join(mask_dir, masks[s]),
                 label_map=self.label_map, reduce_zero_label=False, seg_fields=[],
                 dataset_name=self.dataset_name) for s in stems
        ]


def _named(class_name: str, name: str):
    cls = type(class_name, (PolypDataset, ), dict(DEFAULT_NAME=name, __doc__=(
        f'{name}: a :class:`PolypDataset` reported as ``{name}``.')))
    return DATASETS.register_module(module=cls)


KvasirSEGDataset = _named('KvasirSEGDataset', 'Kvasir')
CVCClinicDBDataset = _named('CVCClinicDBDataset', 'CVC-ClinicDB')
CVCColonDBDataset = _named('CVCColonDBDataset', 'CVC-ColonDB')
ETISLaribPolypDBDataset = _named('ETISLaribPolypDBDataset', 'ETIS-LaribPolypDB')
CVC300Dataset = _named('CVC300Dataset', 'CVC-300')
