# configs/budget/cwd_pvtv2b0_budget.py with the ResNet-18 (ResNetV1c) student in place of
# PVTv2-B0: channel-wise distillation of the decoder features (baseline), from the PVTv2-B2
# teacher, 12 epochs, 160 px. The distiller, the teacher and the schedule are that config's;
# only the student's backbone and its head's in_channels differ.
# tools/train.py needs the teacher: --cfg-options model.teacher_checkpoint=PATH.
_base_ = ['../budget/cwd_pvtv2b0_budget.py', '../_base_/models/students/resnet18.py']
model = dict(
    student=dict(
        backbone=dict(_base_.student_backbone, _delete_=True),
        decode_head=dict(in_channels=_base_.student_in_channels)))
