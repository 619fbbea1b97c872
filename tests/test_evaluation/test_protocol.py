import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from kdas.evaluation import PolypMetric
from kdas.evaluation.protocol import (REFERENCE_COLUMNS, aggregate, binarize_mask,
                                      score_image, to_8bit_prediction)
from tests.conftest import run_tool


def load_reference(reference_dir):
    root = osp.join(reference_dir, 'metrics')
    with open(osp.join(root, 'expected.json')) as f:
        expected = json.load(f)
    pairs = {
        name: (cv2.imread(osp.join(root, 'preds', f'{name}.png'), cv2.IMREAD_GRAYSCALE),
               cv2.imread(osp.join(root, 'masks', f'{name}.png'), cv2.IMREAD_GRAYSCALE))
        for name in expected['per_image']
    }
    return root, expected, pairs


def test_every_column_matches_the_reference(reference_dir):
    _, expected, pairs = load_reference(reference_dir)
    scores = {}
    for name, (pred, mask) in pairs.items():
        scores[name] = score_image(pred, binarize_mask(mask))
        summary = scores[name].summary()
        for column, value in expected['per_image'][name].items():
            assert summary[column] == pytest.approx(value, abs=1e-6), (name, column)
    result = aggregate(scores.values())
    assert set(REFERENCE_COLUMNS) == set(expected['dataset'])
    for column in REFERENCE_COLUMNS:
        assert result[column] == pytest.approx(expected['dataset'][column], abs=1e-6), column


def test_eval_preds_tool_writes_reference_columns(reference_dir, tmp_path):
    root, expected, _ = load_reference(reference_dir)
    out = tmp_path / 'result.json'
    result = run_tool('tools/analysis_tools/eval_preds.py', osp.join(root, 'preds'),
                      osp.join(root, 'masks'), '--out', str(out))
    assert 'mDice' in result.stdout and 'Dice@0.5' in result.stdout
    written = json.loads(out.read_text())
    for column, value in expected['dataset'].items():
        assert written[column] == pytest.approx(value, abs=1e-6), column


def test_eval_preds_reports_size_mismatch_by_name(tmp_path):
    (tmp_path / 'p').mkdir()
    (tmp_path / 'g').mkdir()
    cv2.imwrite(str(tmp_path / 'p' / 'a.png'), np.zeros((10, 12), np.uint8))
    cv2.imwrite(str(tmp_path / 'g' / 'a.png'), np.zeros((10, 10), np.uint8))
    result = run_tool('tools/analysis_tools/eval_preds.py', str(tmp_path / 'p'),
                      str(tmp_path / 'g'), check=False)
    assert result.returncode != 0 and 'a.png' in result.stderr and '12x10' in result.stderr


@pytest.mark.parametrize('which', ['preds', 'masks'])
def test_eval_preds_refuses_an_out_that_is_one_of_its_inputs(reference_dir, tmp_path, which):
    root, _, _ = load_reference(reference_dir)
    for folder in ('preds', 'masks'):
        shutil.copytree(osp.join(root, folder), tmp_path / folder)
    target = sorted((tmp_path / which).iterdir())[0]
    before = target.read_bytes()
    result = run_tool('tools/analysis_tools/eval_preds.py', str(tmp_path / 'preds'),
                      str(tmp_path / 'masks'), '--out', str(target), check=False)
    assert result.returncode == 1 and result.stderr.startswith('error: ')
    assert '--out' in result.stderr and target.name in result.stderr
    assert target.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / which).iterdir()) == sorted(
        os.listdir(osp.join(root, which)))  # nothing written beside it either


def test_fixed_threshold_and_edge_cases_by_hand():
    gt = np.zeros((4, 4), bool)
    gt[:2, :2] = True  # 4 polyp pixels
    pred = np.zeros((4, 4), np.uint8)
    pred[:2, :3] = 200  # 6 predicted pixels at 0.5, 4 of them correct
    s = score_image(pred, gt, mask=pred >= 128)
    assert s.dice_fixed == pytest.approx(2 * 4 / (6 + 4))
    assert s.iou_fixed == pytest.approx(4 / 6)
    # Dice@0.5 is the deployed mask's: not a threshold of the min-max normalised map.
    everywhere = np.ones((4, 4), bool)
    assert score_image(pred, gt, mask=everywhere).dice_fixed == pytest.approx(2 * 4 / (16 + 4))
    assert score_image(pred, gt).dice_fixed is None
    assert s.mae == pytest.approx((2 * 200 / 255 + 4 * (1 - 200 / 255)) / 16)
    # Thresholds above 200/255 predict nothing: the reference scores them 0.
    assert s.curves['Dic'][0] == 0 and s.curves['Dic'][-1] == pytest.approx(2 * 4 / 20)
    # The mask's centroid lies on the border: empty quadrants must not turn S into NaN.
    assert 0 < s.sm < 1
    empty = score_image(np.zeros((4, 4), np.uint8), np.zeros((4, 4), bool),
                        mask=np.zeros((4, 4), bool))
    assert empty.dice_fixed == 1. and empty.sm == 1. and empty.mae == 0.


def test_quantisation_matches_the_saved_png_pipeline():
    prob = np.array([[0.2, 0.4], [0.6, 0.8]])
    expected = np.rint((prob - 0.2) / (0.6 + 1e-8) * 255).astype(np.uint8)
    assert np.array_equal(to_8bit_prediction(prob), expected)


def test_metric_groups_by_dataset_and_writes_tables(reference_dir, tmp_path):
    _, expected, pairs = load_reference(reference_dir)
    metric = PolypMetric(output_dir=str(tmp_path), per_image=True)
    samples = []
    for i, (name, (pred, mask)) in enumerate(pairs.items()):
        # What mmseg's postprocess_result hands the metric: probabilities (already through
        # the sigmoid) whose min-max normalised 8-bit map is the reference PNG, and the mask.
        prob = pred.astype(np.float64) / 255
        prob[0, 0], prob[0, 1] = 0, 1
        sample = SegDataSample(metainfo=dict(img_path=f'/x/{name}.png',
                                             dataset_name='A' if i < 3 else 'B'))
        sample.seg_logits = PixelData(data=torch.from_numpy(prob)[None].float())
        sample.pred_sem_seg = PixelData(data=torch.from_numpy(prob > 0.5)[None].long())
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(binarize_mask(mask))[None].long())
        samples.append(sample.to_dict())
    metric.process({}, samples)
    result = metric.compute_metrics(metric.results)
    assert set(k.split('/')[0] for k in result if '/' in k) == {'A', 'B'}
    assert result['A/meanDic'] != result['B/meanDic']
    assert result['mDice'] == pytest.approx((result['A/meanDic'] + result['B/meanDic']) / 2)
    written = json.loads((tmp_path / 'polyp_metrics.json').read_text())
    assert written['A']['images'] == 3 and written['B']['images'] == 3
    assert (tmp_path / 'polyp_metrics.csv').read_text().startswith('dataset,images,mDice,mIoU')
    assert '| A | 3 |' in (tmp_path / 'polyp_metrics.md').read_text()
    per_image = json.loads((tmp_path / 'polyp_metrics_per_image.json').read_text())
    first = next(iter(pairs))
    assert per_image['A'][first]['mae'] == pytest.approx(
        expected['per_image'][first]['mae'], abs=2e-3)
    # Logits (a second sigmoid's input) are refused, not silently squashed again.
    bad = samples[0]
    bad['seg_logits']['data'] = bad['seg_logits']['data'] * 8 - 4
    with pytest.raises(ValueError, match='not probabilities'):
        metric.process({}, [bad])
