import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import kdas  # noqa: F401
from kdas.models.official_format import convert_polyp_pvt
from kdas.utils.safe_checkpoint import safe_torch_load
from tests.conftest import REPO, run_tool

STUDENT_CFG = osp.join(REPO, 'configs/polyp_pvt/polyppvt_pvtv2b0_polyp.py')
TEACHER_CFG = osp.join(REPO, 'configs/polyp_pvt/polyppvt_pvtv2b2_polyp.py')


def build(cfg_path):
    return MODELS.build(Config.fromfile(cfg_path).model)


def millions(module):
    return f'{sum(p.numel() for p in module.parameters()) / 1e6:.3f}'


def full_resolution_maps(model, inputs):
    p1, p2 = model.decode_head(model.extract_feat(inputs))
    size = inputs.shape[-2:]
    return (F.interpolate(p1, size=size, mode='bilinear'),
            F.interpolate(p2, size=size, mode='bilinear'))


def test_parameter_counts():
    student, teacher = build(STUDENT_CFG), build(TEACHER_CFG)
    assert millions(student) == '3.651' and millions(student.backbone) == '3.410'
    assert millions(teacher) == '25.108' and millions(teacher.backbone) == '24.850'


def test_official_student_checkpoint_reproduces_reference_outputs(reference_dir, tmp_path):
    dst = tmp_path / 'student.pth'
    run_tool('tools/model_converters/polyppvt2mmseg.py',
             osp.join(reference_dir, 'kdas_student_b0_official_format.pth'), str(dst))
    model = build(STUDENT_CFG).eval()
    model.load_state_dict(safe_torch_load(str(dst))['state_dict'], strict=True)
    inputs = torch.from_numpy(np.load(osp.join(reference_dir, 'parity_input.npy')))
    with torch.no_grad():
        p1, p2 = full_resolution_maps(model, inputs)
    for name, ours in (('p1', p1), ('p2', p2)):
        expected = np.load(osp.join(reference_dir, f'parity_student_{name}.npy'))
        assert ours.shape == expected.shape
        assert np.abs(ours.numpy() - expected).max() < 1e-4, name


def official_state(reference_dir):
    return safe_torch_load(osp.join(reference_dir, 'kdas_student_b0_official_format.pth'))


def test_converter_names_missing_extra_and_misshaped_keys(reference_dir):
    state = dict(official_state(reference_dir))
    state.pop('SAM.conv_extend.weight')
    state['backbone.block1.0.attn.q.weight'] = torch.zeros(5, 5)
    state['backbone.extra.weight'] = torch.zeros(1)
    with pytest.raises(ValueError) as err:
        convert_polyp_pvt(state, source='bad.pth')
    message = str(err.value)
    assert 'bad.pth' in message
    assert 'decode_head.sam.conv_extend.weight' in message  # missing
    assert 'backbone.extra.weight' in message  # unexpected
    assert 'backbone.block1.0.attn.q.weight' in message  # mis-shaped
    with pytest.raises(ValueError, match='no known Polyp-PVT module: foo.bar'):
        convert_polyp_pvt({**official_state(reference_dir), 'foo.bar': torch.zeros(1)})


def test_converter_tool_fails_on_bad_checkpoint(reference_dir, tmp_path):
    state = dict(official_state(reference_dir))
    state.pop('out_SAM.bias')
    src = tmp_path / 'broken.pth'
    torch.save(state, src)
    result = run_tool('tools/model_converters/polyppvt2mmseg.py', str(src),
                      str(tmp_path / 'out.pth'), check=False)
    assert result.returncode != 0
    assert 'broken.pth' in result.stderr and 'decode_head.out_sam.bias' in result.stderr
    assert not (tmp_path / 'out.pth').exists()


def test_b0_weights_do_not_load_into_b2(reference_dir, tmp_path):
    with pytest.raises(ValueError, match='wrong shape'):
        convert_polyp_pvt(official_state(reference_dir), arch='b2')
    converted = convert_polyp_pvt(official_state(reference_dir))
    ckpt = tmp_path / 'b0.pth'
    torch.save(dict(state_dict=converted), ckpt)
    from kdas.utils import load_weights
    with pytest.raises(RuntimeError, match='b0.pth.*missing keys.*backbone.block1.2'):
        load_weights(build(TEACHER_CFG), str(ckpt), what='teacher')


@pytest.mark.parametrize('size', [(64, 96), (350, 420), (100, 100)])
def test_any_input_size_runs_forward_and_predict(size):
    model = build(STUDENT_CFG).eval()
    inputs = torch.randn(1, 3, *size)
    sample = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size,
                                         padding_size=[0, 0, 0, 0]))
    with torch.no_grad():
        p1, p2 = model.decode_head(model.extract_feat(inputs))
        result = model.predict(inputs, [sample])[0]
    assert p1.shape == p2.shape and p1.shape[1] == 1
    assert result.pred_sem_seg.data.shape == (1, *size)
    assert result.seg_logits.data.shape == (1, *size)
    assert set(result.pred_sem_seg.data.unique().tolist()) <= {0, 1}


def test_head_trains_with_structure_loss_on_both_maps():
    model = build(STUDENT_CFG).train()
    inputs = torch.randn(2, 3, 64, 64)
    samples = []
    for _ in range(2):
        s = SegDataSample(metainfo=dict(img_shape=(64, 64), pad_shape=(64, 64)))
        from mmengine.structures import PixelData
        s.gt_sem_seg = PixelData(data=(torch.rand(1, 64, 64) > 0.7).long())
        samples.append(s)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'decode.loss_structure_p1', 'decode.loss_structure_p2'}
    sum(losses.values()).backward()
    assert model.decode_head.out_sam.weight.grad.abs().sum() > 0
    assert model.backbone.patch_embed1.proj.weight.grad.abs().sum() > 0
