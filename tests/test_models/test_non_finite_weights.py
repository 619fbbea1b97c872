"""Weights with NaN or infinity are refused wherever they are loaded for use: the
teacher, a Pretrained backbone, and any checkpoint through ``load_weights``."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from kdas.models.backbones import PVTv2
from kdas.utils import load_weights
from tests.conftest import REPO


def poisoned(state_dict, key, value):
    state_dict = {k: v.clone() for k, v in state_dict.items()}
    state_dict[key].view(-1)[0] = value
    return state_dict


@pytest.mark.parametrize('value', [float('nan'), float('inf'), -float('inf')])
def test_load_weights_names_every_non_finite_tensor(tmp_path, value):
    model = PVTv2('b0')
    keys = [k for k, v in model.state_dict().items() if v.is_floating_point()][:2]
    state = poisoned(poisoned(model.state_dict(), keys[0], value), keys[1], value)
    path = tmp_path / 'bad.pth'
    torch.save(dict(state_dict=state), path)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError) as raised:
        load_weights(model, str(path), what='PVTv2 backbone')
    message = str(raised.value)
    assert f'{path} is unusable: 2 tensors hold NaN or infinite values: {keys[0]}, {keys[1]}' \
        in message
    for key, tensor in model.state_dict().items():  # nothing was loaded
        assert torch.equal(tensor, before[key]), key


def test_a_nan_teacher_and_a_nan_pretrained_backbone_are_refused(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs/kdas/kdas_pvtv2b0_polyp.py'))
    teacher = MODELS.build(cfg.model.teacher)
    key = next(k for k, v in teacher.state_dict().items() if v.is_floating_point())
    torch.save(dict(state_dict=poisoned(teacher.state_dict(), key, float('nan'))),
               tmp_path / 'teacher.pth')
    cfg.model.teacher_checkpoint = str(tmp_path / 'teacher.pth')
    cfg.model.student.backbone.init_cfg = None
    with pytest.raises(RuntimeError, match=f'teacher checkpoint .*teacher.pth is unusable: '
                                           f'1 tensors hold NaN or infinite values: {key}'):
        MODELS.build(cfg.model)

    backbone = PVTv2('b0').state_dict()
    first = next(k for k, v in backbone.items() if v.is_floating_point())
    torch.save(poisoned(backbone, first, float('nan')), tmp_path / 'b0_mmseg.pth')
    student = Config.fromfile(osp.join(REPO, 'configs/polyp_pvt/polyppvt_pvtv2b0_polyp.py'))
    student.model.backbone.init_cfg = dict(type='Pretrained',
                                           checkpoint=str(tmp_path / 'b0_mmseg.pth'))
    model = MODELS.build(student.model)
    with pytest.raises(RuntimeError, match=f'b0_mmseg.pth is unusable: .*{first}'):
        model.init_weights()
