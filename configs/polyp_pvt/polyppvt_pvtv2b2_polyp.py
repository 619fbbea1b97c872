# The KDAS teacher: Polyp-PVT on PVTv2-B2 (25.1 M parameters), paper recipe, from ImageNet
# (pretrained/pvt_v2_b2_mmseg.pth). Its last checkpoint, work_dirs/polyppvt_pvtv2b2_polyp/
# epoch_100.pth, is where the KDAS configs look for the teacher.
_base_ = './polyppvt_pvtv2b0_polyp.py'
model = dict(_delete_=True, **_base_.teacher_model)
model['backbone'] = dict(model['backbone'], init_cfg=_base_.imagenet_b2)
