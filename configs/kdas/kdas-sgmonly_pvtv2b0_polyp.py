# Ablation: the Symmetrical Guiding Module only (no attention supervision).
_base_ = [
    '../_base_/models/kdas-sgmonly_polyp_pvt.py', '../_base_/datasets/polyp.py',
    '../_base_/schedules/adamw_100e.py', '../_base_/default_runtime.py'
]
model = dict(teacher_checkpoint=_base_.paper_teacher,
             student=dict(backbone=dict(init_cfg=_base_.imagenet_b0)))
