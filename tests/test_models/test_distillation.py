import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmseg.registry import MODELS

import kdas  # noqa: F401
from kdas.utils.safe_checkpoint import safe_torch_load
from tests.conftest import REPO, small_training_config

KDAS_CFG = 'configs/kdas/kdas_pvtv2b0_polyp.py'


@pytest.fixture
def teacher_checkpoint(tmp_path):
    """A (randomly initialised) B2 teacher saved as a training run would save it."""
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG))
    teacher = MODELS.build(cfg.model.teacher)
    teacher.init_weights()
    path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict()), path)
    return str(path)


def test_kdas_trains_student_only_and_saves_student_checkpoint(tmp_path, real_polyp_root,
                                                                teacher_checkpoint):
    cfg = small_training_config(KDAS_CFG, tmp_path / 'work', real_polyp_root, iters=3,
                                teacher_checkpoint=teacher_checkpoint)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    teacher_before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    student_before = {k: v.clone() for k, v in model.student.state_dict().items()}
    losses = []
    runner.register_hook(_LossRecorder(losses))
    runner.train()

    assert len(losses) == 3
    for log in losses:
        assert set(log) >= {'decode.loss_structure_p1', 'distill.loss_at', 'distill.loss_sgm'}
        assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
        assert log['distill.loss_at'] > 0 and log['distill.loss_sgm'] > 0
    # The teacher is untouched (bit-identical, still in eval mode, outside the optimiser).
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k
    assert not model.teacher.training
    optimised = {id(p) for g in runner.optim_wrapper.optimizer.param_groups for p in g['params']}
    assert not any(id(p) in optimised for p in model.teacher.parameters())
    changed = [k for k, v in model.student.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, student_before[k])]
    assert 'backbone.patch_embed1.proj.weight' in changed

    ckpt = safe_torch_load(str(tmp_path / 'work' / 'iter_3.pth'))
    keys = set(ckpt['state_dict'])
    assert not any(k.startswith(('teacher', 'student.')) for k in keys)
    # The checkpoint loads directly into the student's own config.
    student = MODELS.build(Config.fromfile(
        osp.join(REPO, 'configs/polyp_pvt/polyppvt_pvtv2b0_polyp.py')).model)
    student.load_state_dict(ckpt['state_dict'], strict=True)
    for k, v in student.state_dict().items():
        assert torch.equal(v, model.student.state_dict()[k])


class _LossRecorder(Hook):

    def __init__(self, sink):
        self.sink = sink

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.sink.append({k: float(v) for k, v in outputs.items()})


def test_teacher_stays_in_eval_mode_and_follows_the_model(teacher_checkpoint):
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG))
    cfg.model.teacher_checkpoint = teacher_checkpoint
    model = MODELS.build(cfg.model)
    model.train()
    assert model.student.training and not model.teacher.training
    model.double()
    assert next(model.teacher.parameters()).dtype == torch.float64
    assert not any(k.startswith('teacher') for k in model.state_dict())
    assert all(not p.requires_grad for p in model.teacher.parameters())


def test_missing_teacher_checkpoint_is_named(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG))
    cfg.model.teacher_checkpoint = str(tmp_path / 'nowhere.pth')
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        MODELS.build(cfg.model)


def test_unreadable_teacher_checkpoint_is_named(tmp_path):
    path = tmp_path / 'truncated.pth'
    path.write_bytes(b'PK\x03\x04 not really a checkpoint')
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG))
    cfg.model.teacher_checkpoint = str(path)
    with pytest.raises(RuntimeError, match='truncated.pth.*unreadable'):
        MODELS.build(cfg.model)


def test_mismatched_teacher_checkpoint_names_file_and_keys(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG))
    student = MODELS.build(cfg.model.student)  # B0 weights where a B2 teacher is expected
    path = tmp_path / 'b0_as_teacher.pth'
    torch.save(dict(state_dict=student.state_dict()), path)
    cfg.model.teacher_checkpoint = str(path)
    with pytest.raises(RuntimeError) as err:
        MODELS.build(cfg.model)
    message = str(err.value)
    assert 'b0_as_teacher.pth' in message and 'teacher' in message
    assert 'backbone.block1.2.attn.q.weight' in message  # missing in B0
    assert 'keys with the wrong shape: backbone.block1.0.attn.kv.bias' in message


def test_multi_scale_schedule_steps_once_per_scale(tmp_path, real_polyp_root):
    cfg = small_training_config('configs/polyp_pvt/polyppvt_pvtv2b0_polyp.py', tmp_path,
                                real_polyp_root, size=64, iters=1)
    cfg.merge_from_dict(dict(model=dict(train_rates=(0.75, 1.0, 1.25), train_base_size=128)))
    runner = Runner.from_cfg(cfg)
    sizes = []
    runner.model.backbone.register_forward_pre_hook(
        lambda m, args: sizes.append(tuple(args[0].shape[-2:])))
    runner.train()
    # round(128 * rate / 32) * 32 for 0.75, 1 and 1.25.
    assert sizes == [(96, 96), (128, 128), (160, 160)]
    assert runner.optim_wrapper.optimizer.state_dict()['state'][0]['step'] == 3
