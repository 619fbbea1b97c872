import os
import os.path as osp

import cv2
import numpy as np
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


def _batch(real_polyp_root, size=64, n=2):
    """A preprocessed batch of real images and masks at ``size``."""
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    folder = osp.join(real_polyp_root, 'Kvasir-SEG')
    names = sorted(os.listdir(osp.join(folder, 'images')))[:n]
    images, samples = [], []
    for name in names:
        img = cv2.resize(cv2.imread(osp.join(folder, 'images', name)), (size, size))
        stem = osp.splitext(name)[0]
        mask = cv2.resize(cv2.imread(osp.join(folder, 'masks', stem + '.png'), 0), (size, size),
                          interpolation=cv2.INTER_NEAREST)
        images.append((torch.from_numpy(img).permute(2, 0, 1).float() - 120) / 60)
        sample = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                             pad_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=torch.from_numpy((mask > 127)[None]).long())
        samples.append(sample)
    return torch.stack(images), samples


def test_total_is_the_kdas_objective_recomputed_from_the_recorded_maps(real_polyp_root,
                                                                     teacher_checkpoint):
    from kdas.models.losses.structure_loss import structure_loss
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG))
    cfg.model.teacher_checkpoint = teacher_checkpoint
    # A term whose name lacks "loss" must be optimised all the same.
    cfg.model.distiller.distill_losses = dict(
        attention=cfg.model.distiller.distill_losses.loss_at,
        loss_sgm=cfg.model.distiller.distill_losses.loss_sgm)
    cfg.model.distiller.loss_inputs = dict(attention=['p1', 'p2'], loss_sgm=['p1'])
    cfg.model.student.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    inputs, samples = _batch(real_polyp_root)
    losses = model.loss(inputs, samples)
    total, log_vars = model.parse_losses(losses)

    # Independently: the student's maps and the teacher's maps as the distiller recorded
    # them, upsampled to the input, through the loss modules and the structure loss.
    student, teacher = model.distiller.student_recorder.outputs, \
        model.distiller.teacher_recorder.outputs
    up = [torch.nn.functional.interpolate(m, size=(64, 64), mode='bilinear',
                                          align_corners=False) for m in
          (student['p1'], student['p2'], teacher['p1'], teacher['p2'])]
    gt = torch.stack([s.gt_sem_seg.data for s in samples]).float()
    l_seg = structure_loss(up[0], gt) + structure_loss(up[1], gt)
    terms = model.distiller.distill_losses
    l_at = terms['attention'](up[:2], up[2:])
    l_sgm = terms['loss_sgm'](up[:1], up[2:3])
    alpha = cfg.model.alpha
    expected = (1 - alpha) * l_seg + alpha * (l_at + l_sgm)
    assert float(total) == pytest.approx(float(expected), rel=1e-5)
    assert float(log_vars['distill.loss_attention']) == pytest.approx(float(alpha * l_at),
                                                                rel=1e-5)
    assert float(l_at) > 0
    # and it reaches the student: the attention term alone has a gradient.
    model.zero_grad()
    losses['distill.loss_attention'].backward()
    grad = model.student.backbone.patch_embed1.proj.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_training_without_a_teacher_checkpoint_stops(tmp_path, real_polyp_root):
    cfg = small_training_config(KDAS_CFG, tmp_path / 'work', real_polyp_root, iters=1,
                                teacher_checkpoint=None)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(RuntimeError, match='teacher_checkpoint is not set.*tools/train.py'):
        runner.train()
    assert not (tmp_path / 'work' / 'iter_1.pth').exists()
    # Testing and inference do not need the teacher.
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        model.eval()
        inputs, samples = _batch(real_polyp_root)
        assert len(model.predict(inputs, samples)) == 2


def test_kdas_multi_scale_steps_once_per_scale(tmp_path, real_polyp_root, teacher_checkpoint):
    cfg = small_training_config(KDAS_CFG, tmp_path, real_polyp_root, size=64, iters=1,
                                teacher_checkpoint=teacher_checkpoint)
    cfg.merge_from_dict(dict(model=dict(train_rates=(0.75, 1.0), train_base_size=128)))
    runner = Runner.from_cfg(cfg)
    student_sizes, teacher_sizes = [], []
    runner.model.student.backbone.register_forward_pre_hook(
        lambda m, args: student_sizes.append(tuple(args[0].shape[-2:])))
    runner.model.teacher.backbone.register_forward_pre_hook(
        lambda m, args: teacher_sizes.append(tuple(args[0].shape[-2:])))
    runner.train()
    assert student_sizes == teacher_sizes == [(96, 96), (128, 128)]
    assert runner.optim_wrapper.optimizer.state_dict()['state'][0]['step'] == 2


def test_public_code_schedule_resizes_masks_bilinearly(real_polyp_root):
    from kdas.models.segmentors.multi_scale_train import rescale_batch
    inputs, samples = _batch(real_polyp_root, size=64)
    _, hard = rescale_batch(inputs, samples, (96, 96))
    _, soft = rescale_batch(inputs, samples, (96, 96), label_mode='bilinear')
    for sample, h, s in zip(samples, hard, soft):
        label = sample.gt_sem_seg.data[None].float()
        expected = torch.nn.functional.interpolate(label, size=(96, 96), mode='bilinear',
                                                   align_corners=True)[0]
        torch.testing.assert_close(s.gt_sem_seg.data, expected)
        assert set(h.gt_sem_seg.data.unique().tolist()) <= {0, 1}
        assert ((s.gt_sem_seg.data > 0) & (s.gt_sem_seg.data < 1)).any()
    cfg = Config.fromfile(osp.join(REPO, 'configs/kdas/kdas-publiccode_pvtv2b0_polyp.py'))
    assert cfg.model.train_label_resize == 'bilinear'
    assert cfg.model.student.decode_head.loss_decode.weighted_bce is False


def test_kdas_trains_under_bf16_autocast_on_the_cpu(tmp_path, real_polyp_root,
                                                    teacher_checkpoint):
    from kdas.engine import mixed_precision_wrapper
    cfg = small_training_config(KDAS_CFG, tmp_path, real_polyp_root, size=64, iters=3,
                                teacher_checkpoint=teacher_checkpoint)
    cfg.optim_wrapper = mixed_precision_wrapper(cfg.optim_wrapper, 'bf16', 'cpu')
    runner = Runner.from_cfg(cfg)
    activations, losses = [], []
    runner.model.student.backbone.block1[0].attn.q.register_forward_hook(
        lambda m, args, out: activations.append(out.dtype))
    runner.register_hook(_LossRecorder(losses))
    runner.train()
    assert activations and set(activations) == {torch.bfloat16}
    assert len(losses) == 3
    for log in losses:
        assert all(np.isfinite(v) for v in log.values()), log
        assert log['distill.loss_at'] > 0 and log['distill.loss_sgm'] > 0
    # weights stay float32
    assert runner.model.student.backbone.patch_embed1.proj.weight.dtype == torch.float32
    with pytest.raises(ValueError, match='float16 training needs a GPU'):
        mixed_precision_wrapper(cfg.optim_wrapper, 'fp16', 'cpu')


def test_distillation_losses_are_float32_under_autocast(real_polyp_root, teacher_checkpoint):
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG))
    cfg.model.teacher_checkpoint = teacher_checkpoint
    model = MODELS.build(cfg.model).train()
    inputs, samples = _batch(real_polyp_root)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model.loss(inputs, samples)
    assert model.distiller.student_recorder.outputs['p1'].dtype == torch.bfloat16
    assert {v.dtype for v in losses.values()} == {torch.float32}


def test_alpha_warms_up_and_balanced_terms_take_the_segmentation_loss_scale(
        real_polyp_root, teacher_checkpoint):
    from mmengine.logging import MessageHub
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG))
    cfg.model.update(teacher_checkpoint=teacher_checkpoint, alpha_warmup_iters=10,
                     balance_terms=True, balance_momentum=0.5)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()  # deterministic: no drop path
    inputs, samples = _batch(real_polyp_root)
    hub = MessageHub.get_current_instance()

    def step(it, batch):
        hub.update_info('iter', it)
        logged = {k: float(v) for k, v in model.loss(batch, samples).items()}
        raw = {k: float(v) for k, v in model.distiller.compute_losses((64, 64)).items()}
        alpha = 0.3 * min(1, it / 10)
        seg = sum(v for k, v in logged.items() if k.startswith('decode.')) / (1 - alpha)
        return logged, raw, seg, alpha

    # first balanced step: the running means start at the current values, so every term
    # is scaled to exactly the segmentation loss; alpha is half-way through its warm-up
    logged1, raw1, seg1, alpha1 = step(5, inputs)
    assert alpha1 == pytest.approx(0.15)
    for name in ('loss_at', 'loss_sgm'):
        assert logged1[f'distill.{name}'] == pytest.approx(alpha1 * seg1, rel=1e-5)
    # second step, other images: the scale is the ratio of the running means (momentum .5)
    logged2, raw2, seg2, alpha2 = step(20, inputs.flip(-1))
    assert alpha2 == pytest.approx(0.3)
    for name in ('loss_at', 'loss_sgm'):
        scale = (seg1 + seg2) / (raw1[name] + raw2[name])
        assert logged2[f'distill.{name}'] == pytest.approx(alpha2 * raw2[name] * scale,
                                                           rel=1e-5)
        assert raw2[name] != pytest.approx(raw1[name])
    # before any iteration, alpha is 0: the distillation terms weigh nothing
    logged0, *_ = step(0, inputs)
    assert logged0['distill.loss_at'] == 0 and logged0['distill.loss_sgm'] == 0


def test_channel_wise_distillation_of_decoder_features(real_polyp_root, teacher_checkpoint):
    cfg = Config.fromfile(osp.join(REPO, 'configs/budget/cwd_pvtv2b0_budget.py'))
    cfg.model.teacher_checkpoint = teacher_checkpoint
    model = MODELS.build(cfg.model).train()
    inputs, samples = _batch(real_polyp_root)
    losses = model.loss(inputs, samples)
    # the features stay at their own stride-8 size, 32 channels in both networks
    for recorder in (model.distiller.student_recorder, model.distiller.teacher_recorder):
        assert {k: tuple(v.shape) for k, v in recorder.outputs.items()} == {
            'feat_cfm': (2, 32, 8, 8), 'feat_sam': (2, 32, 8, 8)}
    assert float(losses['distill.loss_cwd']) > 0
    losses['distill.loss_cwd'].backward()
    assert model.student.backbone.patch_embed1.proj.weight.grad.abs().sum() > 0


def test_balanced_running_means_travel_in_checkpoints(real_polyp_root, teacher_checkpoint):
    from types import SimpleNamespace

    from kdas.engine import TrainStateHook
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG))
    cfg.model.update(teacher_checkpoint=teacher_checkpoint, balance_terms=True,
                     balance_momentum=0.5)
    torch.manual_seed(0)
    trained = MODELS.build(cfg.model).eval()
    inputs, samples = _batch(real_polyp_root)
    for batch in (inputs, inputs.flip(-1), inputs.flip(-2)):
        trained.loss(batch, samples)

    # through a checkpoint, as the runner saves and resumes it
    checkpoint = {'state_dict': trained.state_dict()}
    hook = TrainStateHook()
    hook.before_save_checkpoint(SimpleNamespace(model=trained), checkpoint)
    assert set(checkpoint['model_train_state']['balance_running_means']) == {
        '_seg', 'loss_at', 'loss_sgm'}
    assert not any('balance' in k or '_running' in k for k in checkpoint['state_dict'])
    resumed = MODELS.build(cfg.model).eval()
    resumed.load_state_dict(checkpoint['state_dict'])
    hook.after_load_checkpoint(SimpleNamespace(model=resumed), checkpoint)

    # the next step scales its terms as the uninterrupted model does; a fresh one does not
    fresh = MODELS.build(cfg.model).eval()
    fresh.load_state_dict(checkpoint['state_dict'])
    after = [{k: float(v) for k, v in m.loss(inputs.flip(-1).flip(-2), samples).items()}
             for m in (trained, resumed, fresh)]
    assert after[1] == after[0]
    assert after[2]['distill.loss_at'] != pytest.approx(after[0]['distill.loss_at'])


def test_configs_naming_the_distiller_kdasdistiller_still_build_it():
    from kdas.models import RecordingDistiller
    cfg = Config.fromfile(osp.join(REPO, KDAS_CFG)).model.distiller
    assert cfg.type == 'RecordingDistiller'
    old = MODELS.build(dict(cfg, type='KDASDistiller'))
    new = MODELS.build(cfg)
    assert type(old) is type(new) is RecordingDistiller
    assert old.state_dict().keys() == new.state_dict().keys()
