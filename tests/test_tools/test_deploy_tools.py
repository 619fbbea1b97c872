"""Inference and ONNX export tools on real sample images."""
import glob
import os
import os.path as osp
import shutil

import cv2
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import inference_model, init_model
from mmseg.registry import MODELS

from tests.conftest import REPO, SAMPLE, run_tool

STUDENT = 'configs/quickstart/polyppvt_pvtv2b0_sample.py'


@pytest.fixture(scope='module')
def student_checkpoint(tmp_path_factory):
    """A student checkpoint as a training run saves it (weights and dataset meta)."""
    path = tmp_path_factory.mktemp('ckpt') / 'student.pth'
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(osp.join(REPO, STUDENT)).model)
    model.init_weights()
    # Freshly initialised batch-norm statistics (mean 0, variance 1) do not normalise
    # anything, so activations grow through the decoder until float32 rounding alone moves
    # the probabilities by 1e-3. Estimate the statistics on real images, as training does,
    # so that the activations have a trained network's scale.
    images = sorted(glob.glob(osp.join(SAMPLE, 'Kvasir-SEG', 'images', '*')))[:4]
    batch = torch.stack([
        torch.from_numpy(cv2.resize(cv2.imread(f), (160, 160))).permute(2, 0, 1).float()
        for f in images
    ])
    batch = (batch - 120.) / 60.
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average over the calibration passes
    model.train()
    with torch.no_grad():
        model.decode_head(model.extract_feat(batch))
    model.eval()
    meta = dict(dataset_meta=dict(classes=('background', 'polyp'),
                                  palette=[[0, 0, 0], [0, 255, 0]]))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return str(path)


def test_infer_writes_masks_at_original_size_and_skips_corrupt_images(tmp_path,
                                                                      student_checkpoint):
    images = tmp_path / 'in'
    images.mkdir()
    src = osp.join(SAMPLE, 'Kvasir-SEG', 'images')
    names = sorted(os.listdir(src))[:2]
    for name in names:
        shutil.copy(osp.join(src, name), images / name)
    (images / 'broken.jpg').write_bytes(b'\xff\xd8\xff garbage')
    out = tmp_path / 'out'
    result = run_tool('tools/infer.py', STUDENT, student_checkpoint, str(images), str(out),
                      '--threshold', '0.4', check=False)
    assert result.returncode == 1
    assert 'broken.jpg' in result.stdout + result.stderr
    for name in names:
        stem = osp.splitext(name)[0]
        original = cv2.imread(osp.join(src, name))
        mask = cv2.imread(str(out / 'masks' / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        assert mask.shape == original.shape[:2]
        assert set(mask.ravel().tolist()) <= {0, 255}
        overlay = cv2.imread(str(out / 'overlays' / f'{stem}.jpg'))
        assert overlay.shape[1:] == original.shape[1:] and overlay.shape[0] > original.shape[0]
    assert not (out / 'masks' / 'broken.png').exists()


def test_mmseg_apis_work_with_our_configs(student_checkpoint):
    model = init_model(osp.join(REPO, STUDENT), student_checkpoint, device='cpu')
    path = osp.join(SAMPLE, 'CVC-ClinicDB', 'images', '1.jpg')
    result = inference_model(model, path)
    h, w = cv2.imread(path).shape[:2]
    assert result.pred_sem_seg.data.shape == (1, h, w)
    assert result.seg_logits.data.shape == (1, h, w)


def test_onnx_export_and_verify_on_real_images(tmp_path, student_checkpoint):
    onnx_file = tmp_path / 'student.onnx'
    result = run_tool('tools/deployment/pytorch2onnx.py', STUDENT, student_checkpoint,
                      '--output-file', str(onnx_file), '--shape', '160', '160', '--verify')
    assert onnx_file.exists()
    assert 'verify on 2 real images' in result.stdout and '(ok,' in result.stdout
