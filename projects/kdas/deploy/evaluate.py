"""Test-set scores of a frame segmenter (any backend) with the project's protocol.

The same columns as ``tools/test.py``: each image's probability map at its own size,
min-max normalised to 8 bits for the threshold-swept columns, and the deployed mask for
Dice@0.5 / IoU@0.5. Used to accept or refuse a quantised graph against its float32 source.
"""
from typing import List, Optional

import cv2
import numpy as np

from ..datasets.polyp import TRAIN_SUBSETS, subset_pairs
from ..datasets.transforms import binarize_polyp_mask
from ..evaluation.protocol import aggregate, mask_overlap, score_image, to_8bit_prediction


def calibration_images(data_root: str, count: int) -> List[str]:
    """``count`` training images spread evenly over the training split of ``data_root``."""
    paths = [p['img_path'] for pairs in subset_pairs(data_root, TRAIN_SUBSETS).values()
             for p in pairs]
    if count >= len(paths):
        return paths
    return [paths[i] for i in np.linspace(0, len(paths) - 1, count).round().astype(int)]


def read_pair(pair: dict):
    image = cv2.imread(pair['img_path'], cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f'cannot read image {pair["img_path"]}')
    gt = cv2.imread(pair['seg_map_path'], cv2.IMREAD_UNCHANGED)
    if gt is None:
        raise OSError(f'cannot read mask {pair["seg_map_path"]}')
    return image, binarize_polyp_mask(gt).astype(bool)


def evaluate_segmenters(segmenters: dict, data_root: str, limit: Optional[int] = None):
    """Scores each segmenter on every test set under ``data_root``, on the same images.

    Returns ``(scores, agreement)``: ``scores[name][dataset]`` the protocol's columns;
    ``agreement[name][dataset]`` the mean per-image Dice of that segmenter's masks against
    the first segmenter's (1 for the first).
    """
    names = list(segmenters)
    per_image = {n: {} for n in names}
    agree = {n: {} for n in names}
    for dataset, pairs in subset_pairs(data_root).items():
        pairs = pairs[:limit] if limit else pairs
        for name in names:
            per_image[name][dataset] = []
            agree[name][dataset] = []
        for pair in pairs:
            image, gt = read_pair(pair)
            first_mask = None
            for name in names:
                prediction = segmenters[name](image)
                per_image[name][dataset].append(
                    score_image(to_8bit_prediction(prediction.prob.numpy()), gt,
                                mask=prediction.mask))
                if first_mask is None:
                    first_mask = prediction.mask
                agree[name][dataset].append(mask_overlap(prediction.mask, first_mask)[0])
    scores = {n: {d: aggregate(s) for d, s in per_image[n].items()} for n in names}
    agreement = {n: {d: float(np.mean(v)) for d, v in agree[n].items()} for n in names}
    return scores, agreement


def verification_report(scores: dict, agreement: dict, tolerance: float):
    """(the table of :func:`evaluate_segmenters`' two graphs on each test set, whether the
    second's mDice is within ``tolerance`` of the first's on every one)."""
    names = list(scores)
    ok, lines = True, []
    lines.append(f'{"test set":16} {"graph":8} {"mDice":>7} {"Dice@0.5":>8} {"MAE":>7} '
                 f'{"mask Dice vs " + names[0]:>20}')
    for dataset in scores[names[0]]:
        for name in names:
            s = scores[name][dataset]
            lines.append(f'{dataset:16} {name:8} {s["meanDic"]:7.4f} {s["Dice@0.5"]:8.4f} '
                         f'{s["mae"]:7.4f} {agreement[name][dataset]:20.4f}')
        gap = scores[names[0]][dataset]['meanDic'] - scores[names[1]][dataset]['meanDic']
        within = abs(gap) <= tolerance
        ok &= within
        lines.append(f'{dataset:16} mDice {names[0]} - {names[1]} = {gap:+.4f} '
                     f'({"within" if within else "OUTSIDE"} {tolerance})')
    return '\n'.join(lines), ok
