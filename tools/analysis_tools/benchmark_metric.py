"""Speed of the polyp evaluation protocol: kdas's implementation against a direct
threshold-by-threshold evaluation written like the reference code (a full pass over the
image for each of the 256 thresholds), on the Kvasir test masks with synthetic 8-bit soft
predictions (kdas.benchmarking.metric_speed). Both run in this process, on the same images,
and must agree: exit status 1 when they do not.

    python tools/analysis_tools/benchmark_metric.py ../shared/data/polyp [--reference-images 5]
"""
import argparse
import os.path as osp
import sys

import cv2
import numpy as np

from kdas.benchmarking.metric_speed import (compare_metric_speed, format_metric_speed,
                                            synthetic_prediction)
from kdas.datasets.polyp import read_split
from kdas.evaluation.protocol import binarize_mask

# float64 rounding apart, both compute the same scores
AGREEMENT = 1e-6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='polyp data root (with Kvasir-SEG and splits)')
    parser.add_argument('--reference-images', type=int, default=5,
                        help='images timed with the per-threshold evaluation (slow)')
    args = parser.parse_args()
    try:
        stems = read_split(osp.join(args.data_root, 'splits', 'kvasir_test.txt'))
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    rng = np.random.default_rng(0)
    pairs = []
    for stem in stems:
        path = osp.join(args.data_root, 'Kvasir-SEG', 'masks', f'{stem}.png')
        mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if mask is None:
            sys.exit(f'error: cannot read the mask {path}')
        mask = binarize_mask(mask)
        pairs.append((synthetic_prediction(mask, rng), mask))
    result = compare_metric_speed(pairs, args.reference_images)
    print(format_metric_speed(result, [g.size for _, g in pairs]))
    if result['largest_difference'] > AGREEMENT:
        sys.exit(f'error: the two evaluations differ by {result["largest_difference"]:.1e} '
                 f'(more than {AGREEMENT:g}): one of them is wrong')


if __name__ == '__main__':
    main()
