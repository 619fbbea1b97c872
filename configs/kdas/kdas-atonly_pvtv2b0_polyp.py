# Ablation: attention supervision only (no SGM term).
_base_ = [
    '../_base_/models/kdas-atonly_polyp_pvt.py', '../_base_/datasets/polyp.py',
    '../_base_/schedules/adamw_100e.py', '../_base_/default_runtime.py'
]
model = dict(teacher_checkpoint=_base_.paper_teacher,
             student=dict(backbone=dict(init_cfg=_base_.imagenet_b0)))
