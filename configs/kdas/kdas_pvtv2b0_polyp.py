# KDAS (attention supervision + Symmetrical Guiding Module), the paper's recipe: a PVTv2-B0
# student from a frozen Polyp-PVT B2 teacher, 352 x 352, multi-scale, AdamW, 100 epochs.
# Train the teacher first (configs/polyp_pvt/polyppvt_pvtv2b2_polyp.py) or convert a public
# Polyp-PVT checkpoint (tools/model_converters/polyppvt2mmseg.py), then point
# `model.teacher_checkpoint` at it.
_base_ = [
    '../_base_/models/kdas_polyp_pvt.py', '../_base_/datasets/polyp.py',
    '../_base_/schedules/adamw_100e.py', '../_base_/default_runtime.py'
]
model = dict(teacher_checkpoint='work_dirs/polyppvt_pvtv2b2_polyp/teacher.pth')
