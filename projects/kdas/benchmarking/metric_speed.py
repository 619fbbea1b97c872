"""Speed of the polyp evaluation protocol against a direct threshold-by-threshold
evaluation written like the reference code (a full pass over the image for each of the 256
thresholds), on real masks with synthetic 8-bit soft predictions. Both must agree."""
import statistics
import time
from typing import Dict, List, Tuple

import cv2
import numpy as np

from ..evaluation.protocol import (THRESHOLDS, aggregate, s_measure, score_image,
                                   weighted_f_measure_full)


def synthetic_prediction(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible soft map: the mask shifted, blurred and noised, quantised to 8 bits."""
    h, w = mask.shape
    shifted = np.roll(mask.astype(np.float32), (rng.integers(-h // 20, h // 20 + 1),
                                                rng.integers(-w // 20, w // 20 + 1)), (0, 1))
    soft = cv2.GaussianBlur(shifted, (0, 0), max(h, w) / 60)
    soft = np.clip(soft + rng.normal(0, 0.05, soft.shape), 0, 1)
    return np.rint(soft * 255).astype(np.uint8)


def per_threshold_scores(pred: np.ndarray, gt: np.ndarray):
    """(curves of Dice, IoU, sensitivity, specificity and E-measure; S-measure; weighted
    F-measure), one pass over the image per threshold."""
    pred_f = pred.astype(np.float64) / 255
    gt_f = gt.astype(np.float64)
    n = gt.size
    num_obj = gt_f.sum()
    curves = {k: np.zeros(len(THRESHOLDS)) for k in ('Dic', 'IoU', 'Sen', 'Spe', 'Em')}
    for j, t in enumerate(THRESHOLDS):
        binary = (pred_f >= t).astype(np.float64)
        tp = (binary * gt_f).sum()
        num_pred = binary.sum()
        fn, fp = num_obj - tp, num_pred - tp
        tn = n - num_pred - fn
        if tp > 0:
            curves['Dic'][j] = 2 * tp / (num_obj + num_pred)
            curves['IoU'][j] = tp / (fn + num_pred)
            curves['Sen'][j] = tp / num_obj
            curves['Spe'][j] = tn / (tn + fp)
        if num_obj == 0:
            enhanced = 1 - binary
        elif num_obj == n:
            enhanced = binary
        else:
            a_fm, a_gt = binary - binary.mean(), gt_f - gt_f.mean()
            align = 2 * a_gt * a_fm / (a_gt * a_gt + a_fm * a_fm + np.finfo(np.float64).eps)
            enhanced = (align + 1)**2 / 4
        curves['Em'][j] = enhanced.sum() / (n - 1 + np.finfo(np.float64).eps)
    return curves, s_measure(pred_f, gt), weighted_f_measure_full(pred_f, gt)


def compare_metric_speed(pairs: List[Tuple[np.ndarray, np.ndarray]],
                         reference_images: int) -> Dict[str, object]:
    """Times kdas's scoring of every (prediction, mask) pair and the per-threshold one on
    the first ``reference_images``; the largest difference of any score between them."""
    ours = []
    for pred, gt in pairs:
        start = time.perf_counter()
        score_image(pred, gt)
        ours.append(time.perf_counter() - start)
    table = aggregate(score_image(p, g) for p, g in pairs)
    ref_times, worst = [], 0.
    for pred, gt in pairs[:reference_images]:
        start = time.perf_counter()
        curves, sm, wfm = per_threshold_scores(pred, gt)
        ref_times.append(time.perf_counter() - start)
        fast = score_image(pred, gt)
        worst = max([worst, abs(sm - fast.sm), abs(wfm - fast.wfm)] +
                    [float(np.abs(curves[k] - fast.curves[k]).max()) for k in curves])
    return dict(ours_s=ours, reference_s=ref_times, largest_difference=worst, table=table)


def format_metric_speed(result: dict, sizes: List[int]) -> str:
    ours, ref_times = result['ours_s'], result['reference_s']
    ref_mean = statistics.mean(ref_times)
    ours_same = statistics.mean(ours[:len(ref_times)])
    return '\n'.join([
        f'{len(ours)} Kvasir test masks, {min(sizes) / 1e6:.2f}-{max(sizes) / 1e6:.2f} '
        'Mpixel, synthetic 8-bit predictions',
        f'kdas:          {statistics.mean(ours) * 1e3:7.1f} ms per image (mean), '
        f'{sum(ours):.2f} s for all {len(ours)}',
        f'per-threshold: {ref_mean * 1e3:7.1f} ms per image (mean of the first '
        f'{len(ref_times)} images; kdas on the same images: {ours_same * 1e3:.1f} ms)',
        f'speed-up on the same images: {ref_mean / ours_same:.0f}x; '
        f'largest difference of any score: {result["largest_difference"]:.1e}',
        'dataset columns: ' + ', '.join(f'{k} {v:.4f}' for k, v in result['table'].items())])
