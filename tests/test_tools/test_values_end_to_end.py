"""The numbers and masks a user sees, checked against independent paths.

A student is trained for a few iterations on the embedded sample (so that its maps are
neither constant nor all polyp); then
- ``tools/test.py``'s table must equal MMSegmentation's own ``inference_model`` probability
  maps, saved as the reference pipeline saves them (min-max, x255, PNG), scored by
  ``eval_preds.py``;
- ``tools/infer.py``'s masks must equal ``pred_sem_seg`` pixel for pixel, and Dice@0.5 must be
  the Dice of those masks;
- a checkpoint with a missing, an unexpected and a mis-shaped key must stop every tool.
"""
import json
import os
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmseg.apis import inference_model, init_model

from kdas.utils.safe_checkpoint import safe_torch_load
from kdas.visualization.overlay import COLOURS, FILL_ALPHA
from tests.conftest import STUDENT, run_tool, write_tiny_config

COLUMNS = ('meanDic', 'meanIoU', 'wFm', 'Sm', 'meanEm', 'mae', 'maxEm', 'maxDic', 'maxIoU',
           'meanSen', 'maxSen', 'meanSpe', 'maxSpe', 'Dice@0.5', 'IoU@0.5')


@pytest.fixture(scope='module')
def mmseg_outputs(trained):
    """MMSegmentation's own inference: stem -> (probability map, pred_sem_seg)."""
    cfg, ckpt, images, _ = trained
    model = init_model(cfg, ckpt, device='cpu')
    out = {}
    for path in images:
        result = inference_model(model, path)
        out[osp.splitext(osp.basename(path))[0]] = (
            result.seg_logits.data[0].numpy().astype(np.float64),
            result.pred_sem_seg.data[0].numpy().astype(bool))
    fractions = [mask.mean() for _, mask in out.values()]
    assert 0 < np.mean(fractions) < 0.9, f'degenerate network: polyp fractions {fractions}'
    return out


def test_test_tool_equals_an_independent_evaluation(tmp_path, trained, mmseg_outputs):
    cfg, ckpt, _, masks = trained
    result = run_tool('tools/test.py', cfg, ckpt, '--work-dir', str(tmp_path / 'test'),
                      '--per-image')
    table = json.loads((tmp_path / 'test' / 'polyp_metrics.json').read_text())['Kvasir']
    # What the console shows: a table that fits 100 columns, without the one-line dump of
    # every key (which stays in the log file).
    console = result.stdout
    rows = [ln for ln in console.splitlines() if ln.startswith(('|', '+'))]
    assert any(re.match(r'\|\s+Kvasir\s+\|', ln) and f'{table["meanDic"]:.4f}' in ln
               for ln in rows)
    assert rows and max(len(ln) for ln in rows) <= 100
    assert 'Dice@0.5' in console and 'maxSen' not in console
    assert 'Kvasir/meanDic' not in console
    logs = [osp.join(r, f) for r, _, fs in os.walk(tmp_path / 'test') for f in fs
            if f.endswith('.log')]
    assert any('Kvasir/meanDic' in open(p).read() for p in logs)

    # The reference pipeline: probabilities, min-max normalised, saved as 8-bit PNG.
    pred_dir, mask_dir, gt_dir = (tmp_path / d for d in ('pred', 'deployed', 'gt'))
    for d in (pred_dir, mask_dir, gt_dir):
        d.mkdir()
    for path in masks:
        shutil.copy(path, gt_dir)
    for stem, (prob, mask) in mmseg_outputs.items():
        res = (prob - prob.min()) / (prob.max() - prob.min() + 1e-8)
        cv2.imwrite(str(pred_dir / f'{stem}.png'), res * 255)
        cv2.imwrite(str(mask_dir / f'{stem}.png'), mask.astype(np.uint8) * 255)
    run_tool('tools/analysis_tools/eval_preds.py', str(pred_dir), str(gt_dir), '--mask-dir',
             str(mask_dir), '--out', str(tmp_path / 'independent.json'))
    independent = json.loads((tmp_path / 'independent.json').read_text())
    assert table['images'] == independent['images'] == len(masks)
    for column in COLUMNS:
        assert table[column] == pytest.approx(independent[column], abs=1e-6), column

    # Dice@0.5 is the Dice of the deployed masks, image by image.
    per_image = json.loads((tmp_path / 'test' / 'polyp_metrics_per_image.json').read_text())
    for stem, (_, mask) in mmseg_outputs.items():
        gt = cv2.imread(osp.join(gt_dir, f'{stem}.png'), cv2.IMREAD_GRAYSCALE) > 127
        dice = 2 * (mask & gt).sum() / (mask.sum() + gt.sum())
        assert per_image['Kvasir'][stem]['Dice@0.5'] == pytest.approx(dice, abs=1e-12)


def test_infer_masks_are_pred_sem_seg_and_overlays_show_them(tmp_path, trained,
                                                              mmseg_outputs):
    cfg, ckpt, images, _ = trained
    src = tmp_path / 'images'
    src.mkdir()
    for path in images:
        shutil.copy(path, src)
    run_tool('tools/infer.py', cfg, ckpt, str(src), str(tmp_path / 'out'))
    for path in images:
        stem = osp.splitext(osp.basename(path))[0]
        written = cv2.imread(str(tmp_path / 'out' / 'masks' / f'{stem}.png'),
                             cv2.IMREAD_UNCHANGED)
        expected = mmseg_outputs[stem][1]
        np.testing.assert_array_equal(written > 0, expected, err_msg=stem)
        assert set(np.unique(written)) <= {0, 255}
        # The overlay is of that mask: the image blended with the fill colour inside it,
        # the image itself elsewhere (JPEG-lossy), a legend strip below.
        image = cv2.imread(path).astype(np.float64)
        overlay = cv2.imread(str(tmp_path / 'out' / 'overlays' / f'{stem}.jpg'))
        assert overlay.shape[0] > image.shape[0] and overlay.shape[1] == image.shape[1]
        overlay = overlay[:image.shape[0]].astype(np.float64)
        kernel = np.ones((15, 15), np.uint8)
        inside = cv2.erode(expected.astype(np.uint8), kernel) > 0
        outside = cv2.erode((~expected).astype(np.uint8), kernel) > 0
        filled = (1 - FILL_ALPHA) * image + FILL_ALPHA * np.array(COLOURS['tp'], np.float64)
        if inside.any():
            assert np.abs(overlay - filled)[inside].mean() < 6, stem
        if outside.any():
            assert np.abs(overlay - image)[outside].mean() < 6, stem


@pytest.fixture(scope='module')
def broken_checkpoint(trained, tmp_path_factory):
    """The trained checkpoint with one key removed, one added and one of the wrong shape."""
    ckpt = safe_torch_load(trained[1])
    state = ckpt['state_dict']
    del state['decode_head.out_sam.weight']
    state['decode_head.extra_layer.weight'] = torch.zeros(3)
    state['backbone.norm4.weight'] = torch.zeros(7)
    path = tmp_path_factory.mktemp('broken') / 'broken.pth'
    torch.save(ckpt, path)
    return str(path)


def _assert_names_the_problem(result, path):
    assert result.returncode != 0
    err = result.stderr
    assert path in err
    for key in ('decode_head.out_sam.weight', 'decode_head.extra_layer.weight',
                'backbone.norm4.weight'):
        assert key in err, (key, err[-2000:])
    assert 'Traceback' not in err


@pytest.mark.parametrize('tool', ['test', 'infer', 'export'])
def test_a_mismatched_checkpoint_stops_every_tool(tool, tmp_path, trained, broken_checkpoint):
    cfg, _, images, _ = trained
    args = {
        'test': ('tools/test.py', cfg, broken_checkpoint, '--work-dir', str(tmp_path)),
        'infer': ('tools/infer.py', cfg, broken_checkpoint, images[0], str(tmp_path / 'o')),
        'export': ('tools/deployment/pytorch2onnx.py', cfg, broken_checkpoint,
                   '--output-file', str(tmp_path / 'x.onnx'), '--shape', '64', '64'),
    }[tool]
    _assert_names_the_problem(run_tool(*args, check=False), broken_checkpoint)
    assert not (tmp_path / 'x.onnx').exists() and not (tmp_path / 'o' / 'masks').exists()


def test_pretrained_backbone_init_is_strict(tmp_path, trained, broken_checkpoint):
    cfg = write_tiny_config(tmp_path, STUDENT, size=64, iters=1, extra=(
        'model = dict(backbone=dict(init_cfg=dict(type="Pretrained", '
        f'checkpoint="{broken_checkpoint}", prefix="backbone.")))\n'))
    result = run_tool('tools/train.py', cfg, '--work-dir', str(tmp_path / 'w'), check=False)
    assert result.returncode != 0
    assert 'PVTv2 backbone checkpoint' in result.stderr and 'norm4.weight' in result.stderr
    assert not any(f.endswith('.pth') for f in os.listdir(tmp_path / 'w'))

    missing = write_tiny_config(tmp_path, STUDENT, size=64, iters=1, extra=(
        'model = dict(backbone=dict(init_cfg=dict(type="Pretrained", '
        'checkpoint="pretrained/nowhere_b0.pth")))\n'))
    result = run_tool('tools/train.py', missing, '--work-dir', str(tmp_path / 'w2'),
                      check=False)
    assert result.returncode != 0
    assert 'pretrained/nowhere_b0.pth do not exist' in result.stderr
    assert 'tools/model_converters/pvt2mmseg.py pvt_v2_b0.pth' in result.stderr
