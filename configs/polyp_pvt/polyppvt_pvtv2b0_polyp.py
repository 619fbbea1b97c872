# The KDAS student (Polyp-PVT on PVTv2-B0, 3.65 M parameters) trained alone: the baseline,
# paper recipe. The backbone starts from ImageNet (pretrained/pvt_v2_b0_mmseg.pth, made by
# tools/model_converters/pvt2mmseg.py); from scratch: --cfg-options model.backbone.init_cfg=None
_base_ = [
    '../_base_/models/polyp_pvt.py', '../_base_/datasets/polyp.py',
    '../_base_/schedules/adamw_100e.py', '../_base_/default_runtime.py'
]
model = dict(backbone=dict(init_cfg=_base_.imagenet_b0))
