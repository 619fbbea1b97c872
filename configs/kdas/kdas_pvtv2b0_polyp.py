# KDAS (attention supervision + Symmetrical Guiding Module), the paper's recipe: a PVTv2-B0
# student from a frozen Polyp-PVT B2 teacher, 352 x 352, multi-scale, AdamW, 100 epochs.
# The teacher is read from where configs/polyp_pvt/polyppvt_pvtv2b2_polyp.py writes its last
# checkpoint (work_dirs/polyppvt_pvtv2b2_polyp/epoch_100.pth); for a converted public
# Polyp-PVT checkpoint (tools/model_converters/polyppvt2mmseg.py) pass
# --cfg-options model.teacher_checkpoint=PATH. The student's backbone starts from ImageNet
# (pretrained/pvt_v2_b0_mmseg.pth); from scratch: model.student.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/kdas_polyp_pvt.py', '../_base_/datasets/polyp.py',
    '../_base_/schedules/adamw_100e.py', '../_base_/default_runtime.py'
]
model = dict(teacher_checkpoint=_base_.paper_teacher,
             student=dict(backbone=dict(init_cfg=_base_.imagenet_b0)))
