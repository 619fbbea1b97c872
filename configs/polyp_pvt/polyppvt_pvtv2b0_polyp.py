# The KDAS student (Polyp-PVT on PVTv2-B0, 3.65 M parameters) trained alone: the baseline.
# Initialise its backbone from ImageNet with
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b0_mmseg.pth')
# (tools/model_converters/pvt2mmseg.py converts the public weights).
_base_ = [
    '../_base_/models/polyp_pvt.py', '../_base_/datasets/polyp.py',
    '../_base_/schedules/adamw_100e.py', '../_base_/default_runtime.py'
]
