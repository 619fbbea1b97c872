"""Scoring folders of saved predictions (8-bit soft maps, as polyp papers publish them)
against a folder of masks with the polyp protocol, pairing files by stem.

Dice@0.5 and IoU@0.5 score the deployed masks, which a min-max normalised 8-bit map does not
determine: they need the deployed 0/255 masks too, otherwise those columns are left out.
"""
import os.path as osp
from concurrent.futures import ProcessPoolExecutor
from typing import List, Optional, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ..utils.image_files import index_by_stem
from .protocol import ImageScores, binarize_mask, score_image


def read_gray(path: str) -> np.ndarray:
    """The first channel of an 8-bit image; an error naming the file otherwise."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise OSError(f'cannot read {path} (missing, corrupt or not an image)')
    if img.ndim == 3:
        img = img[..., 0]
    if img.dtype != np.uint8:
        raise ValueError(f'{path}: expected an 8-bit image, got {img.dtype}')
    return img


def score_pair(pred_path: str, gt_path: str, mask_path: Optional[str] = None) -> ImageScores:
    pred, gt = read_gray(pred_path), read_gray(gt_path)
    mask = None if mask_path is None else read_gray(mask_path)
    for path, image in ((pred_path, pred), (mask_path, mask)):
        if image is not None and image.shape != gt.shape:
            raise ValueError(f'{path} is {image.shape[1]}x{image.shape[0]} but its ground '
                             f'truth {gt_path} is {gt.shape[1]}x{gt.shape[0]}')
    return score_image(pred, binarize_mask(gt),
                       mask=None if mask is None else binarize_mask(mask))


def pair_saved_predictions(pred_dir: str, gt_dir: str,
                           mask_dir: Optional[str] = None) -> List[Tuple[str, tuple]]:
    """[(stem, (prediction, ground truth, deployed mask or None))] for every mask in
    ``gt_dir``; raises naming the folder when a mask has no prediction (or deployed mask)."""
    preds = index_by_stem(pred_dir, 'prediction')
    masks = index_by_stem(gt_dir, 'mask')
    deployed = index_by_stem(mask_dir, 'deployed mask') if mask_dir else None
    for folder, found, what in ((pred_dir, preds, 'prediction'),
                                (mask_dir, deployed, 'deployed mask')):
        missing = sorted(set(masks) - set(found)) if found is not None else []
        if missing:
            raise ValueError(f'{len(missing)} masks in {gt_dir} have no {what} in {folder}: '
                             f'{", ".join(missing[:10])}')
    return [(s, (osp.join(pred_dir, preds[s]), osp.join(gt_dir, masks[s]),
                 osp.join(mask_dir, deployed[s]) if deployed else None)) for s in sorted(masks)]


def score_saved_predictions(pairs: List[Tuple[str, tuple]], workers: int = 1) -> list:
    """The ImageScores of each pair of :func:`pair_saved_predictions`, in its order."""
    paths = [p for _, p in pairs]
    progress = dict(total=len(paths), desc='scoring', unit='img', disable=None)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            return list(tqdm(pool.map(score_pair, *zip(*paths)), **progress))
    return [score_pair(*p) for p in tqdm(paths, **progress)]
