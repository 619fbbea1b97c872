"""The tools on a trained network, as a hostile user runs them: weights that are NaN,
outputs pointed at their own inputs or at ground truth (through symlinks too), a full
disk, truncated and same-stem inputs. Nothing an input held may be lost."""
import hashlib
import os
import os.path as osp
import shutil
import subprocess

import cv2
import pytest
import torch

from kdas.utils.safe_checkpoint import safe_torch_load
from tests.conftest import SAMPLE, run_tool
from tests.test_engine.test_checkpoint_faults import small_tmpfs

KVASIR = osp.join(SAMPLE, 'Kvasir-SEG')


def sha256(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def digest(folder):
    """File name -> SHA-256 of every file in ``folder``."""
    return {name: sha256(osp.join(folder, name)) for name in sorted(os.listdir(folder))}


@pytest.fixture
def dataset_copy(tmp_path):
    """A copy of the sample's Kvasir-SEG folder (images/ and masks/)."""
    copy = tmp_path / 'Kvasir-SEG'
    shutil.copytree(KVASIR, copy)
    return copy


def test_every_tool_that_loads_weights_refuses_a_nan_tensor(tmp_path, trained):
    cfg, ckpt, images, _ = trained
    checkpoint = safe_torch_load(ckpt)
    name = next(k for k, v in checkpoint['state_dict'].items() if v.is_floating_point())
    checkpoint['state_dict'][name][0] = float('nan')
    bad = tmp_path / 'nan.pth'
    torch.save(checkpoint, bad)
    runs = {
        'test': ('tools/test.py', cfg, str(bad), '--work-dir', str(tmp_path / 'test')),
        'infer': ('tools/infer.py', cfg, str(bad), images[0], str(tmp_path / 'infer')),
        'export': ('tools/deployment/pytorch2onnx.py', cfg, str(bad), '--output-file',
                   str(tmp_path / 'nan.onnx'), '--shape', '64', '64'),
    }
    for tool, args in runs.items():
        result = run_tool(*args, check=False)
        assert result.returncode != 0, tool
        assert 'Traceback' not in result.stderr, (tool, result.stderr[-2000:])
        assert f'{bad} is unusable: 1 tensors hold NaN or infinite values: {name}' \
            in result.stderr, (tool, result.stderr[-2000:])
    assert not (tmp_path / 'nan.onnx').exists()
    assert not (tmp_path / 'infer').exists()


def test_infer_pointed_at_a_dataset_folder_loses_no_mask(tmp_path, trained, dataset_copy):
    cfg, ckpt, _, _ = trained
    masks = dataset_copy / 'masks'
    before = digest(masks)
    link = tmp_path / 'link'
    link.symlink_to(dataset_copy)
    attempts = [
        [str(dataset_copy / 'images'), str(dataset_copy), '--gt-dir', str(masks)],
        [str(dataset_copy / 'images'), str(dataset_copy)],  # the tool is not told it is GT
        [str(dataset_copy / 'images'), str(link), '--gt-dir', str(masks)],
        [str(dataset_copy / 'images'), str(link)],
    ]
    for args in attempts:
        result = run_tool('tools/infer.py', cfg, ckpt, *args, check=False)
        assert result.returncode != 0, args
        assert 'Traceback' not in result.stderr
        assert 'error: ' in result.stderr and 'masks' in result.stderr, result.stderr
        assert digest(masks) == before, args
        assert not (dataset_copy / 'overlays').exists()
    # A fresh OUTPUT works, and so does writing into it again (the run claimed it).
    out = tmp_path / 'out'
    for _ in range(2):
        run_tool('tools/infer.py', cfg, ckpt, str(dataset_copy / 'images'), str(out),
                 '--gt-dir', str(masks))
    assert sorted(os.listdir(out / 'masks')) == sorted(before)
    assert digest(masks) == before


def test_export_and_quantise_refuse_to_write_over_their_inputs(tmp_path, trained):
    cfg, ckpt, _, _ = trained
    ckpt_before = sha256(ckpt)
    link = tmp_path / 'student.onnx'
    link.symlink_to(ckpt)
    result = run_tool('tools/deployment/pytorch2onnx.py', cfg, ckpt, '--output-file',
                      str(link), check=False)
    assert result.returncode != 0 and 'Traceback' not in result.stderr
    assert f'would overwrite the input {ckpt}' in result.stderr
    assert sha256(ckpt) == ckpt_before

    graph = tmp_path / 'fp32.onnx'
    run_tool('tools/deployment/pytorch2onnx.py', cfg, ckpt, '--output-file', str(graph),
             '--shape', '64', '64')
    graph_before = graph.read_bytes()
    (tmp_path / 'int8_link.onnx').symlink_to(graph)
    os.link(graph, tmp_path / 'int8_hardlink.onnx')
    for out in ('int8_link.onnx', 'int8_hardlink.onnx'):
        result = run_tool('tools/deployment/quantize_onnx.py', str(graph), '--output-file',
                          str(tmp_path / out), check=False)
        assert result.returncode != 0 and 'Traceback' not in result.stderr
        assert 'would overwrite the input' in result.stderr and str(graph) in result.stderr
        assert graph.read_bytes() == graph_before


def test_infer_on_a_full_disk_stops_naming_the_file_and_leaves_no_partial_file(
        tmp_path, trained):
    cfg, ckpt, _, _ = trained
    disk = tmp_path / 'disk'
    small_tmpfs(disk, '96k')  # a few of the eight images' masks and overlays fit
    try:
        out = disk / 'out'
        result = run_tool('tools/infer.py', cfg, ckpt, osp.join(KVASIR, 'images'), str(out),
                          check=False)
        assert result.returncode != 0
        assert 'no space left on the device' in result.stderr, result.stderr[-2000:]
        assert f'error: cannot write ' in result.stderr and str(out) in result.stderr
        assert 'images segmented' not in result.stdout
        written = [osp.join(out, sub, f) for sub in ('masks', 'overlays')
                   for f in os.listdir(out / sub)]
        assert not [f for f in written if osp.basename(f).startswith('.kdas-tmp-')]
        for path in written:  # every file there is whole
            assert cv2.imread(path) is not None, path
    finally:
        subprocess.run(['umount', str(disk)], check=False)


def test_infer_reports_a_truncated_jpeg_and_refuses_same_stem_inputs(tmp_path, trained):
    cfg, ckpt, images, _ = trained
    folder = tmp_path / 'in'
    folder.mkdir()
    shutil.copy(images[0], folder / 'good.jpg')
    data = open(images[1], 'rb').read()
    (folder / 'cut.jpg').write_bytes(data[:len(data) // 2])
    result = run_tool('tools/infer.py', cfg, ckpt, str(folder), str(tmp_path / 'out'),
                      check=False)
    assert result.returncode == 1
    assert 'cut.jpg' in result.stdout + result.stderr and 'truncated' in result.stdout + \
        result.stderr
    assert '1 of 2 images segmented' in result.stdout
    assert os.listdir(tmp_path / 'out' / 'masks') == ['good.png']

    shutil.copy(images[0], folder / 'good.png')
    result = run_tool('tools/infer.py', cfg, ckpt, str(folder), str(tmp_path / 'out2'),
                      check=False)
    assert result.returncode != 0 and 'Traceback' not in result.stderr
    assert "share the stem 'good'" in result.stderr
    assert not (tmp_path / 'out2').exists()


def test_an_output_path_under_a_file_fails_before_the_model_loads(tmp_path, trained):
    cfg, ckpt, images, _ = trained
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    result = run_tool('tools/infer.py', cfg, ckpt, images[0], str(blocker / 'out'),
                      check=False)
    assert result.returncode != 0 and 'Traceback' not in result.stderr
    assert f'cannot be created: {blocker} is a file' in result.stderr
    result = run_tool('tools/deployment/pytorch2onnx.py', cfg, ckpt, '--output-file',
                      str(blocker / 'x.onnx'), check=False)
    assert result.returncode != 0 and f'{blocker} is a file' in result.stderr
