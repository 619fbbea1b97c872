"""CNN students under the Polyp-PVT head (configs/students/): MMSegmentation's ResNetV1c-18
and MobileNetV2 give the head its 4/8/16/32 pyramid, train alone and under each distiller
(KDAS, pixel KD, CWD) from the PVTv2-B2 teacher, and their configs are the CPU-budget
configs with only the student's backbone and head in_channels changed."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmseg.registry import MODELS

from kdas.utils.checkpoint import load_weights
from kdas.utils.safe_checkpoint import safe_torch_load
from tests.conftest import REPO, SAMPLE, small_training_config
from tests.test_models.test_distillation import _LossRecorder, teacher_checkpoint  # noqa: F401

# Backbone parameter counts, derived independently of MMSegmentation in
# test_backbone_counts_match_torchvision: ResNetV1c-18 is torchvision's resnet18 without
# its classifier (11,176,512) with the 7x7 stem (conv 9,408 + BN 128) replaced by the deep
# stem (3x3 convs 3->32, 32->32, 32->64: 864 + 9,216 + 18,432; BNs 64 + 64 + 128 = 28,768):
# 11,176,512 - 9,536 + 28,768. MobileNetV2 up to its 320-channel layer is torchvision's
# mobilenet_v2 features[:18] (everything before the 1280-channel convolution).
STUDENTS = {
    'resnet18': dict(backbone_params=11_195_744, channels=[64, 128, 256, 512],
                     first_conv='backbone.stem.0.weight'),
    'mobilenetv2': dict(backbone_params=1_811_712, channels=[24, 32, 96, 320],
                        first_conv='backbone.conv1.conv.weight'),
}
# Each distiller's terms, as the DistillationSegmentor logs them.
DISTILLERS = {
    'kdas': ('distill.loss_at', 'distill.loss_sgm'),
    'pixelkd': ('distill.loss_pixel_kd', ),
    'cwd': ('distill.loss_cwd', ),
}
ALL_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'students', '*.py')))
# polyppvt_mobilenetv2-lr1e-3_budget.py: a variant of one config (its own test below)
CONFIGS = [p for p in ALL_CONFIGS if '-' not in osp.basename(p).split('_')[1]]
VARIANTS = [p for p in ALL_CONFIGS if p not in CONFIGS]
# Variables of the student pieces (configs/_base_/models/students/), not in budget configs.
PIECE_KEYS = ('student_backbone', 'student_in_channels', 'imagenet_resnet18',
              'imagenet_mobilenetv2')


def load(path):
    return Config.fromfile(path if osp.isabs(path) else osp.join(REPO, path))


def count(module):
    return sum(p.numel() for p in module.parameters())


def alone(student):
    return f'configs/students/polyppvt_{student}_budget.py'


@pytest.mark.parametrize('student', STUDENTS)
def test_student_is_its_backbone_plus_the_head(student):
    cfg = load(alone(student)).model
    model, backbone, head = (MODELS.build(c) for c in (cfg, cfg.backbone, cfg.decode_head))
    assert count(model) == count(backbone) + count(head)
    assert count(backbone) == STUDENTS[student]['backbone_params']
    # The head differs from the PVTv2-B0 student's only where in_channels enters: the CIM's
    # channel attention (two 1x1 convs c1 -> c1 // 16 -> c1, no bias) and the four 1x1
    # translations to 32 channels (no bias: BN follows).
    b0_head = MODELS.build(load('configs/budget/polyppvt_pvtv2b0_budget.py').model.decode_head)

    def varying(c1, c2, c3, c4):
        return 2 * c1 * (c1 // 16) + 32 * (c1 + c2 + c3 + c4)

    assert count(head) - count(b0_head) == (varying(*STUDENTS[student]['channels']) -
                                            varying(32, 64, 160, 256))


def test_backbone_counts_match_torchvision():
    torchvision = pytest.importorskip('torchvision')
    resnet = torchvision.models.resnet18(weights=None)
    deep_stem = 3 * 3 * (3 * 32 + 32 * 32 + 32 * 64) + 2 * (32 + 32 + 64)
    assert deep_stem == 28_768
    without_stem = sum(p.numel() for n, p in resnet.named_parameters()
                       if not n.startswith(('fc.', 'conv1.', 'bn1.')))
    assert without_stem + deep_stem == STUDENTS['resnet18']['backbone_params']
    mobilenet = torchvision.models.mobilenet_v2(weights=None)
    assert count(mobilenet.features[:18]) == STUDENTS['mobilenetv2']['backbone_params']


def _record(module, names):
    """name -> output of each named sub-module at the next forward."""
    records, handles = {}, []
    for name in names:
        handles.append(module.get_submodule(name).register_forward_hook(
            lambda m, args, out, name=name: records.__setitem__(name, out)))
    return records, handles


@pytest.mark.parametrize('student', STUDENTS)
def test_backbone_gives_the_head_its_pyramid_and_the_head_the_teachers_shapes(student):
    cfg = load(alone(student))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    teacher = MODELS.build(cfg.teacher_model)
    inputs = torch.randn(2, 3, 96, 96)  # 96 = 3 * 32: every stride divides it exactly
    names = ['decode_head.cfm', 'decode_head.sam', 'decode_head.out_cfm',
             'decode_head.out_sam']
    shapes = []
    for network in (model, teacher):
        network.init_weights()
        network.eval()
        records, handles = _record(network, names)
        with torch.no_grad():
            features = network.extract_feat(inputs)
            network._forward(inputs)
        for h in handles:
            h.remove()
        shapes.append({k: tuple(v.shape) for k, v in records.items()})
        if network is model:
            assert [f.shape[1] for f in features] == STUDENTS[student]['channels'] == \
                cfg.model.decode_head.in_channels
            assert [(96 // f.shape[2], 96 // f.shape[3]) for f in features] == \
                [(4, 4), (8, 8), (16, 16), (32, 32)]
            assert all(96 % f.shape[2] == 0 for f in features)
    # The decoder features the distillers compare (32 channels) and the logits at stride 8.
    assert shapes[0] == shapes[1] == {
        'decode_head.cfm': (2, 32, 12, 12), 'decode_head.sam': (2, 32, 12, 12),
        'decode_head.out_cfm': (2, 1, 12, 12), 'decode_head.out_sam': (2, 1, 12, 12)}


class _InitialWeights(Hook):
    """The weights as training starts (after the runner initialised them)."""

    def __init__(self, sink):
        self.sink = sink

    def before_train(self, runner):
        model = runner.model
        self.sink['student'] = {k: v.clone() for k, v in getattr(
            model, 'student', model).state_dict().items()}
        if hasattr(model, 'teacher'):
            self.sink['teacher'] = {k: v.clone() for k, v in model.teacher.state_dict().items()}


def _train(cfg, iters):
    runner = Runner.from_cfg(cfg)
    losses, initial = [], {}
    runner.register_hook(_LossRecorder(losses))
    runner.register_hook(_InitialWeights(initial))
    runner.train()
    assert len(losses) == iters
    for log in losses:
        assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values()), log
        assert log['decode.loss_structure_p1'] > 0 and log['decode.loss_structure_p2'] > 0
    return runner, losses, initial


def _changed(module, before):
    return {k for k, v in module.state_dict().items()
            if v.is_floating_point() and not torch.equal(v, before[k])}


@pytest.mark.parametrize('student', STUDENTS)
def test_student_trains_alone(student, tmp_path):
    cfg = small_training_config(alone(student), tmp_path / 'work', SAMPLE, size=64, iters=2)
    runner, losses, initial = _train(cfg, 2)
    assert not any(k.startswith('distill.') for k in losses[0])
    changed = _changed(runner.model, initial['student'])
    assert STUDENTS[student]['first_conv'] in changed
    assert 'decode_head.out_cfm.weight' in changed


@pytest.mark.parametrize('method', DISTILLERS)
@pytest.mark.parametrize('student', STUDENTS)
def test_student_trains_under_each_distiller(student, method, tmp_path, teacher_checkpoint):
    cfg = small_training_config(f'configs/students/{method}_{student}_budget.py',
                                tmp_path / 'work', SAMPLE, size=64, iters=2,
                                teacher_checkpoint=teacher_checkpoint)
    runner, losses, initial = _train(cfg, 2)
    model = runner.model
    for log in losses:
        assert set(log) >= set(DISTILLERS[method])
        assert all(log[k] > 0 for k in DISTILLERS[method]), log
    # The student learns, down to its first convolution; the teacher keeps its checkpoint.
    changed = _changed(model.student, initial['student'])
    assert STUDENTS[student]['first_conv'] in changed
    assert not _changed(model.teacher, initial['teacher'])
    saved = safe_torch_load(teacher_checkpoint)['state_dict']
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, saved[k]), k
    assert not model.teacher.training
    # What it saves is the student alone, which its config in this folder loads strictly.
    student_model = MODELS.build(load(alone(student)).model)
    load_weights(student_model, str(tmp_path / 'work' / 'iter_2.pth'))
    for k, v in student_model.state_dict().items():
        assert torch.equal(v, model.student.state_dict()[k]), k


def test_the_folder_holds_each_objective_for_each_student():
    assert sorted(osp.basename(p) for p in CONFIGS) == sorted(
        f'{method}_{student}_budget.py' for student in STUDENTS
        for method in ('polyppvt', *DISTILLERS))


def _student_of(model_cfg):
    return model_cfg['student'] if model_cfg['type'] == 'DistillationSegmentor' else model_cfg


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_is_its_budget_counterpart_with_the_cnn_student(path):
    method, student, _ = osp.basename(path).split('_')
    cfg = load(path)
    counterpart = load(f'configs/budget/{method}_pvtv2b0_budget.py').to_dict()
    piece = load(f'configs/_base_/models/students/{student}.py')

    # It builds (a distillation config with its random teacher: no checkpoint is set), and
    # its student is the student-alone config's.
    model = MODELS.build(cfg.model)
    built_student = getattr(model, 'student', model)
    assert count(built_student) == count(MODELS.build(load(alone(student)).model))
    assert count(built_student.backbone) == STUDENTS[student]['backbone_params']

    mine = cfg.to_dict()
    for key in PIECE_KEYS:
        mine.pop(key, None)
    ours, theirs = _student_of(mine['model']), _student_of(counterpart['model'])
    assert ours['backbone'] == piece.student_backbone.to_dict()
    assert ours['backbone']['init_cfg'] is None  # from scratch, as the CPU budget trains
    assert ours['decode_head']['in_channels'] == STUDENTS[student]['channels']
    # Everything else (the distiller, alpha, the teacher, data, schedule, runtime) is the
    # PVTv2-B0 config's.
    ours['backbone'] = theirs['backbone']
    ours['decode_head']['in_channels'] = theirs['decode_head']['in_channels']
    assert mine == counterpart


def _mmpretrain_mobilenetv2_checkpoint(path):
    """A checkpoint in the format of MMPretrain's ImageNet MobileNetV2: the classifier's
    ``backbone.`` keys (with the 1280-channel ``conv2``) and ``head.fc``."""
    from mmpretrain.models.backbones import MobileNetV2
    torch.manual_seed(1)
    backbone = MobileNetV2(widen_factor=1.0)
    for p in backbone.parameters():
        torch.nn.init.normal_(p)
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state.update({'head.fc.weight': torch.randn(1000, 1280), 'head.fc.bias': torch.zeros(1000)})
    torch.save(dict(state_dict=state, meta=dict()), path)
    return state


def test_imagenet_mobilenetv2_option_loads_the_converted_mmpretrain_weights(tmp_path):
    piece = load('configs/_base_/models/students/mobilenetv2.py')
    raw = str(tmp_path / 'mobilenet_v2_mmpretrain.pth')
    state = _mmpretrain_mobilenetv2_checkpoint(raw)
    backbone_cfg = piece.student_backbone

    # MMEngine's Pretrained with prefix='backbone.' strips the prefix but leaves conv2 over:
    # the strict loader names it.
    with pytest.raises(RuntimeError, match=r'6 unexpected keys: conv2\.bn\.bias'):
        load_weights(MODELS.build(backbone_cfg), raw, prefix='backbone.')

    # The conversion the piece describes: the keys under backbone., stripped, without conv2.
    converted = str(tmp_path / 'mobilenet_v2_mmseg.pth')
    torch.save({k[len('backbone.'):]: v for k, v in state.items()
                if k.startswith('backbone.') and not k.startswith('backbone.conv2.')},
               converted)
    assert piece.imagenet_mobilenetv2 == dict(type='Pretrained',
                                              checkpoint='pretrained/mobilenet_v2_mmseg.pth')
    backbone = MODELS.build(dict(backbone_cfg, init_cfg=dict(piece.imagenet_mobilenetv2,
                                                             checkpoint=converted)))
    backbone.init_weights()
    for k, v in backbone.state_dict().items():
        assert torch.equal(v, state[f'backbone.{k}']), k
    load_weights(MODELS.build(backbone_cfg), converted)  # every key and shape matches


def random_backbone_file(backbone_cfg, tmp_path, seed):
    """(a backbone with random weights, the file of its state dict alone), as a converted
    ImageNet checkpoint is saved."""
    torch.manual_seed(seed)
    source = MODELS.build(backbone_cfg)
    for p in source.parameters():
        torch.nn.init.normal_(p)
    path = str(tmp_path / 'resnet18_v1c_mmseg.pth')
    torch.save(source.state_dict(), path)
    return source, path


def test_imagenet_resnet18_option_loads_a_backbone_state_dict(tmp_path):
    piece = load('configs/_base_/models/students/resnet18.py')
    assert piece.imagenet_resnet18 == dict(type='Pretrained',
                                           checkpoint='pretrained/resnet18_v1c_mmseg.pth')
    source, path = random_backbone_file(piece.student_backbone, tmp_path, seed=2)
    backbone = MODELS.build(dict(piece.student_backbone,
                                 init_cfg=dict(piece.imagenet_resnet18, checkpoint=path)))
    backbone.init_weights()
    for k, v in source.state_dict().items():
        assert torch.equal(v, backbone.state_dict()[k]), k


def test_a_student_segmentor_loads_imagenet_weights_strictly(tmp_path):
    """In the segmentor, Pretrained is strict for mmseg's backbones too: ResNet-18 weights
    named as MobileNetV2's stop the build with the mismatch; the right file loads whole."""
    piece = load('configs/_base_/models/students/resnet18.py')
    source, right = random_backbone_file(piece.student_backbone, tmp_path, seed=3)
    cfg = load('configs/students/polyppvt_resnet18_budget.py').model
    cfg.backbone.init_cfg = dict(type='Pretrained', checkpoint=right)
    model = MODELS.build(cfg)
    model.init_weights()
    for k, v in source.state_dict().items():
        assert torch.equal(v, model.backbone.state_dict()[k]), k

    wrong = load('configs/students/polyppvt_mobilenetv2_budget.py').model
    wrong.backbone.init_cfg = dict(type='Pretrained', checkpoint=right)
    with pytest.raises(RuntimeError, match=r'MobileNetV2 backbone checkpoint .* does not match'):
        MODELS.build(wrong).init_weights()


def test_cnn_converter_writes_what_the_student_loads_strictly(tmp_path):
    """tools/model_converters/cnn2mmseg.py on an MMPretrain-format MobileNetV2 classifier:
    the student's segmentor loads the result strictly and holds the classifier's backbone
    weights; the wrong --arch writes nothing; the output may not be the input."""
    from tests.conftest import run_tool
    raw = str(tmp_path / 'mobilenet_v2_mmpretrain.pth')
    state = _mmpretrain_mobilenetv2_checkpoint(raw)
    out = tmp_path / 'mobilenet_v2_mmseg.pth'
    run_tool('tools/model_converters/cnn2mmseg.py', raw, str(out), '--arch', 'mobilenet_v2')
    cfg = load('configs/students/polyppvt_mobilenetv2_budget.py').model
    cfg.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(out))
    model = MODELS.build(cfg)
    model.init_weights()
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, state[f'backbone.{k}']), k

    wrong = tmp_path / 'wrong.pth'
    result = run_tool('tools/model_converters/cnn2mmseg.py', raw, str(wrong), '--arch',
                      'resnet18_v1c', check=False)
    assert result.returncode == 1 and 'resnet18_v1c' in result.stderr and not wrong.exists()
    before = open(raw, 'rb').read()
    result = run_tool('tools/model_converters/cnn2mmseg.py', raw, raw, '--arch',
                      'mobilenet_v2', check=False)
    assert result.returncode == 1 and 'would overwrite the input' in result.stderr
    assert open(raw, 'rb').read() == before


def test_a_backbone_of_other_strides_or_channels_is_refused_by_name():
    """MobileNetV2 with its stride-32 stage at stride 16 would train without an error (the
    head resizes), and wrong in_channels would fail deep in a convolution: both are refused
    with what to change."""
    cfg = load('configs/students/polyppvt_mobilenetv2_budget.py').model
    x = torch.randn(1, 3, 96, 96)
    model = MODELS.build(cfg).eval()
    with torch.no_grad():
        p1, p2 = model.decode_head(model.extract_feat(x))
    assert p1.shape == p2.shape == (1, 1, 12, 12)
    cfg.backbone.strides = (1, 2, 2, 2, 1, 1, 1)  # the last stage stays at stride 16
    model = MODELS.build(cfg).eval()
    with pytest.raises(ValueError, match=r'level 4 is not half the size of level 3 .*320x6x6'):
        with torch.no_grad():
            model.decode_head(model.extract_feat(x))
    cfg = load('configs/students/polyppvt_mobilenetv2_budget.py').model
    cfg.decode_head.in_channels = [64, 128, 256, 512]  # ResNet-18's
    model = MODELS.build(cfg).eval()
    with pytest.raises(ValueError, match=r'in_channels is \[64, 128, 256, 512\] but the '
                       r'backbone gives \[24, 32, 96, 320\]'):
        with torch.no_grad():
            model.decode_head(model.extract_feat(x))


def test_train_names_the_cnn_converter_when_imagenet_weights_are_missing(tmp_path):
    from tests.conftest import run_tool
    config = tmp_path / 'imagenet_student.py'
    config.write_text(f"_base_ = '{REPO}/configs/students/kdas_mobilenetv2_budget.py'\n"
                      "model = dict(student=dict(backbone=dict(init_cfg=dict(\n"
                      "    _delete_=True, type='Pretrained', checkpoint='pretrained/absent.pth'))))\n")
    result = run_tool('tools/train.py', str(config), '--work-dir', str(tmp_path),
                      '--cfg-options', 'model.teacher_checkpoint=' + str(tmp_path / 'teacher.pth'),
                      check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert any(ln.startswith(f'error: teacher checkpoint {tmp_path}/teacher.pth does not '
                             'exist') for ln in lines)
    assert any(ln.startswith('error: backbone weights pretrained/absent.pth do not exist. '
                             'Convert the ImageNet classifier with tools/model_converters/'
                             'cnn2mmseg.py') and 'model.student.backbone.init_cfg=None' in ln
               for ln in lines)


@pytest.mark.parametrize('path', VARIANTS, ids=osp.basename)
def test_a_variant_differs_from_its_config_in_its_learning_rate_only(path):
    method, student, _ = osp.basename(path).split('_')
    base, _, variant = student.partition('-')
    assert variant.startswith('lr')
    mine = load(path).to_dict()
    theirs = load(f'configs/students/{method}_{base}_budget.py').to_dict()
    lr = float(variant[2:])
    assert mine['optim_wrapper']['optimizer']['lr'] == lr != \
        theirs['optim_wrapper']['optimizer']['lr']
    mine['optim_wrapper']['optimizer']['lr'] = theirs['optim_wrapper']['optimizer']['lr']
    assert mine == theirs


def test_a_backbone_of_three_or_five_levels_is_refused_by_name():
    cfg = load('configs/students/polyppvt_mobilenetv2_budget.py').model
    for out_indices in ((2, 4, 6), (0, 1, 2, 4, 6)):
        cfg.backbone.out_indices = out_indices
        model = MODELS.build(cfg).eval()
        with pytest.raises(ValueError, match=f'four backbone levels, got {len(out_indices)}'):
            with torch.no_grad():
                model.decode_head(model.extract_feat(torch.randn(1, 3, 64, 64)))
