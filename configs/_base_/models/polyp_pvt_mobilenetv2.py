# Polyp-PVT with a MobileNetV2 student (./students/mobilenetv2.py) in place of PVTv2-B0: the
# same CIM/CFM/SAM head on the 24/32/96/320-channel pyramid, so its outputs and decoder
# features have the shapes of the PVT networks'. From scratch; for ImageNet weights set
# model.backbone.init_cfg to imagenet_mobilenetv2 (see ./students/mobilenetv2.py).
# teacher_model stays the PVTv2-B2 network of ./polyp_pvt.py.
_base_ = ['./polyp_pvt.py', './students/mobilenetv2.py']
model = dict(
    backbone=dict(_base_.student_backbone, _delete_=True),
    decode_head=dict(in_channels=_base_.student_in_channels))
