# configs/budget/pixelkd_pvtv2b0_budget.py with the MobileNetV2 student in place of
# PVTv2-B0: pixel-wise response KD on P1 and P2 (baseline), from the PVTv2-B2 teacher, 12
# epochs, 160 px. The distiller, the teacher and the schedule are that config's; only the
# student's backbone and its head's in_channels differ.
# tools/train.py needs the teacher: --cfg-options model.teacher_checkpoint=PATH.
_base_ = ['../budget/pixelkd_pvtv2b0_budget.py', '../_base_/models/students/mobilenetv2.py']
model = dict(
    student=dict(
        backbone=dict(_base_.student_backbone, _delete_=True),
        decode_head=dict(in_channels=_base_.student_in_channels)))
