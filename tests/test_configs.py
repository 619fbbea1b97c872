"""The paper recipe as the configs state it, and the CPU configs left as they are."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from tests.conftest import REPO

KDAS = sorted(glob.glob(osp.join(REPO, 'configs', 'kdas', '*.py')))


def load(path):
    return Config.fromfile(path if osp.isabs(path) else osp.join(REPO, path))


def test_kdas_configs_read_the_teacher_where_the_teacher_config_writes_it():
    teacher_cfg = 'configs/polyp_pvt/polyppvt_pvtv2b2_polyp.py'
    teacher = load(teacher_cfg)
    # tools/train.py's default work dir, and the last epoch's checkpoint (kept: max_keep_ckpts)
    written = osp.join('work_dirs', osp.splitext(osp.basename(teacher_cfg))[0],
                       f'epoch_{teacher.train_cfg.max_epochs}.pth')
    assert len(KDAS) == 4
    for path in KDAS:
        assert load(path).model.teacher_checkpoint == written, path


def test_paper_configs_start_from_imagenet_and_scale_the_lr_with_the_global_batch():
    for path, arch in [('configs/polyp_pvt/polyppvt_pvtv2b0_polyp.py', 'b0'),
                       ('configs/polyp_pvt/polyppvt_pvtv2b2_polyp.py', 'b2')] + [
                           (p, 'b0') for p in KDAS]:
        cfg = load(path)
        student = cfg.model.student if cfg.model.type == 'DistillationSegmentor' else cfg.model
        assert student.backbone.arch == arch
        assert student.backbone.init_cfg == dict(
            type='Pretrained', checkpoint=f'pretrained/pvt_v2_{arch}_mmseg.pth'), path
        assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=16), path
        assert cfg.train_dataloader.batch_size == 16
        assert cfg.optim_wrapper.optimizer.lr == 1e-4


@pytest.mark.parametrize('folder', ['budget', 'quickstart', 'students'])
def test_cpu_configs_train_from_scratch_at_their_own_learning_rate(folder):
    for path in glob.glob(osp.join(REPO, 'configs', folder, '*.py')):
        cfg = load(path)
        student = cfg.model.student if cfg.model.type == 'DistillationSegmentor' else cfg.model
        assert student.backbone.get('init_cfg') is None, path
        assert cfg.auto_scale_lr.enable is False, path
