"""What every training run gets, whatever its config: atomic checkpoints, the divergence
guard, a schedule that trains something, and the weight files it names."""
import os.path as osp
from typing import List

from ..models.backbones.pvt_v2 import pretrained_hint
from ..models.official_format import CNN_BACKBONES
from ..models.segmentors.distillation_segmentor import TEACHER_HINT

SAFE_CHECKPOINT_HOOK = 'AtomicCheckpointHook'
# backbone types tools/model_converters/cnn2mmseg.py converts ImageNet weights for
CNN_CONVERTER_BACKBONES = tuple(cfg['type'] for cfg in CNN_BACKBONES.values())
GUARD_HOOK = 'DivergenceGuardHook'


def schedule_problems(cfg) -> List[str]:
    """What is wrong with ``cfg.train_cfg`` (a run that would train nothing, or never
    validate), as messages naming the setting."""
    train_cfg = cfg.get('train_cfg') or {}
    problems = []
    for key in ('max_epochs', 'max_iters', 'val_interval', 'val_begin'):
        if key not in train_cfg:
            continue
        value = train_cfg[key]
        low = 0 if key == 'val_begin' else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            problems.append(f'train_cfg.{key}={value!r}: must be an integer >= {low}')
    return problems


def missing_weights(cfg) -> List[str]:
    """What weight files the run needs but does not have, each with what to run."""
    model, problems = cfg.model, []
    backbones = [('model.backbone', model.get('backbone'))]
    if model.type == 'DistillationSegmentor':
        backbones = [('model.student.backbone', model.student.get('backbone'))]
        teacher = model.get('teacher_checkpoint')
        if not teacher:
            problems.append(f'model.teacher_checkpoint is not set. {TEACHER_HINT}')
        elif not osp.isfile(teacher):
            problems.append(f'teacher checkpoint {teacher} does not exist. {TEACHER_HINT}')
    for key, backbone in backbones:
        backbone = backbone or {}
        init = backbone.get('init_cfg') or {}
        if init.get('type') == 'Pretrained' and not osp.isfile(init.get('checkpoint', '')):
            if backbone.get('type') == 'PVTv2':
                hint = pretrained_hint(str(backbone.get('arch', 'b0')))
            else:
                convert = ('Convert the ImageNet classifier with tools/model_converters/'
                           'cnn2mmseg.py (configs/students/README.md); or train'
                           if backbone.get('type') in CNN_CONVERTER_BACKBONES else 'Train')
                hint = f'{convert} from scratch with --cfg-options {key}.init_cfg=None'
            problems.append(f'backbone weights {init.get("checkpoint")} do not exist. {hint}')
    return problems


def install_safeguards(cfg) -> None:
    """Makes the run save checkpoints with ``AtomicCheckpointHook`` (a config's plain
    ``CheckpointHook`` keeps its arguments; one saving to remote storage is left as it is)
    and stop at a non-finite loss (``DivergenceGuardHook``)."""
    hooks = cfg.get('default_hooks') or {}
    checkpoint = hooks.get('checkpoint')
    local = '://' not in str(checkpoint.get('out_dir') or '') if checkpoint else False
    if local and checkpoint.get('type') in ('CheckpointHook', 'mmengine.CheckpointHook'):
        checkpoint['type'] = SAFE_CHECKPOINT_HOOK
    custom = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == GUARD_HOOK for h in custom):
        custom.append(dict(type=GUARD_HOOK))
    cfg.custom_hooks = custom
