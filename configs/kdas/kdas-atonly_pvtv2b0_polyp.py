# Ablation: attention supervision only (no SGM term).
_base_ = [
    '../_base_/models/kdas-atonly_polyp_pvt.py', '../_base_/datasets/polyp.py',
    '../_base_/schedules/adamw_100e.py', '../_base_/default_runtime.py'
]
model = dict(teacher_checkpoint='work_dirs/polyppvt_pvtv2b2_polyp/teacher.pth')
