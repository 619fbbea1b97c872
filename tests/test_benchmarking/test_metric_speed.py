"""The metric benchmark's per-threshold evaluation is an independent path to the protocol's
scores: on a real mask and a synthetic prediction, both agree."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest

from kdas.benchmarking.metric_speed import (compare_metric_speed, per_threshold_scores,
                                            synthetic_prediction)
from kdas.evaluation.protocol import binarize_mask, score_image
from tests.conftest import SAMPLE


def sample_pair(seed=0):
    path = sorted(glob.glob(osp.join(SAMPLE, 'Kvasir-SEG', 'masks', '*')))[0]
    mask = binarize_mask(cv2.resize(cv2.imread(path, cv2.IMREAD_GRAYSCALE), (120, 96),
                                    interpolation=cv2.INTER_NEAREST))
    return synthetic_prediction(mask, np.random.default_rng(seed)), mask


def test_per_threshold_scores_equal_the_protocol():
    pred, gt = sample_pair()
    assert 0 < gt.mean() < 1 and len(np.unique(pred)) > 50  # a real, soft case
    curves, sm, wfm = per_threshold_scores(pred, gt)
    fast = score_image(pred, gt)
    assert abs(sm - fast.sm) < 1e-9 and abs(wfm - fast.wfm) < 1e-9
    for key, curve in curves.items():
        np.testing.assert_allclose(curve, fast.curves[key], atol=1e-9, err_msg=key)


def test_comparison_reports_the_largest_difference_and_the_protocol_table():
    pairs = [sample_pair(seed) for seed in range(3)]
    result = compare_metric_speed(pairs, reference_images=2)
    assert len(result['ours_s']) == 3 and len(result['reference_s']) == 2
    assert result['largest_difference'] < 1e-9
    dice = [score_image(p, g).summary()['meanDic'] for p, g in pairs]
    assert result['table']['meanDic'] == pytest.approx(sum(dice) / 3, abs=1e-12)
