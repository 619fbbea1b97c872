"""Speed of the polyp evaluation protocol: kdas's implementation against a direct
threshold-by-threshold evaluation written like the reference code (a full pass over the
image for each of the 256 thresholds), on the Kvasir test masks with synthetic 8-bit soft
predictions. Both run in this process, on the same images, and must agree.

    python tools/analysis_tools/benchmark_metric.py ../shared/data/polyp [--reference-images 5]
"""
import argparse
import os.path as osp
import statistics
import time

import cv2
import numpy as np

from kdas.evaluation.protocol import (THRESHOLDS, aggregate, binarize_mask, s_measure,
                                      score_image, weighted_f_measure_full)


def synthetic_prediction(mask, rng):
    """A plausible soft map: the mask shifted, blurred and noised, quantised to 8 bits."""
    h, w = mask.shape
    shifted = np.roll(mask.astype(np.float32), (rng.integers(-h // 20, h // 20 + 1),
                                                rng.integers(-w // 20, w // 20 + 1)), (0, 1))
    soft = cv2.GaussianBlur(shifted, (0, 0), max(h, w) / 60)
    soft = np.clip(soft + rng.normal(0, 0.05, soft.shape), 0, 1)
    return np.rint(soft * 255).astype(np.uint8)


def per_threshold_scores(pred, gt):
    """Dice, IoU, sensitivity, specificity and E-measure, one pass per threshold."""
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='polyp data root (with Kvasir-SEG and splits)')
    parser.add_argument('--reference-images', type=int, default=5,
                        help='images timed with the per-threshold evaluation (slow)')
    args = parser.parse_args()
    with open(osp.join(args.data_root, 'splits', 'kvasir_test.txt')) as f:
        stems = [ln.strip() for ln in f if ln.strip()]
    rng = np.random.default_rng(0)
    pairs = []
    for stem in stems:
        mask = binarize_mask(cv2.imread(osp.join(args.data_root, 'Kvasir-SEG', 'masks',
                                                 f'{stem}.png'), cv2.IMREAD_GRAYSCALE))
        pairs.append((synthetic_prediction(mask, rng), mask))

    ours = []
    for pred, gt in pairs:
        start = time.perf_counter()
        scores = score_image(pred, gt)
        ours.append(time.perf_counter() - start)
        pairs_scores = scores  # noqa: F841 (kept alive like a real evaluation)
    table = aggregate(score_image(p, g) for p, g in pairs)

    ref_times, worst = [], 0.
    for pred, gt in pairs[:args.reference_images]:
        start = time.perf_counter()
        curves, sm, wfm = per_threshold_scores(pred, gt)
        ref_times.append(time.perf_counter() - start)
        fast = score_image(pred, gt)
        worst = max([worst, abs(sm - fast.sm), abs(wfm - fast.wfm)] +
                    [float(np.abs(curves[k] - fast.curves[k]).max()) for k in curves])

    sizes = [g.size for _, g in pairs]
    print(f'{len(pairs)} Kvasir test masks, {min(sizes) / 1e6:.2f}-{max(sizes) / 1e6:.2f} '
          'Mpixel, synthetic 8-bit predictions')
    print(f'kdas:          {statistics.mean(ours) * 1e3:7.1f} ms per image (mean), '
          f'{sum(ours):.2f} s for all {len(pairs)}')
    ref_mean = statistics.mean(ref_times)
    ours_same = statistics.mean(ours[:args.reference_images])
    print(f'per-threshold: {ref_mean * 1e3:7.1f} ms per image (mean of the first '
          f'{len(ref_times)} images; kdas on the same images: {ours_same * 1e3:.1f} ms)')
    print(f'speed-up on the same images: {ref_mean / ours_same:.0f}x; '
          f'largest difference of any score: {worst:.1e}')
    print('dataset columns: ' + ', '.join(f'{k} {v:.4f}' for k, v in table.items()))


if __name__ == '__main__':
    main()
