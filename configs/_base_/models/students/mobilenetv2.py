# MobileNetV2 (width 1.0) as a Polyp-PVT student backbone: MMSegmentation's MobileNetV2
# with its default strides (1, 2, 2, 2, 1, 2, 1) after the stride-2 stem and no dilation;
# out_indices (1, 2, 4, 6) are its layers of 24, 32, 96 and 320 channels, at strides 4, 8,
# 16 and 32. ReLU6, BN as in the rest of the network (not SyncBN). 1,811,712 parameters
# (MobileNetV2 without its last 1x1 convolution to 1280 channels and the classifier).
# A piece without a model: polyp_pvt_mobilenetv2.py builds the student from it, and the
# distillation configs of configs/students/ put it in place of their PVTv2-B0 student.
student_backbone = dict(
    type='MobileNetV2',
    widen_factor=1.0,
    strides=(1, 2, 2, 2, 1, 2, 1),
    dilations=(1, 1, 1, 1, 1, 1, 1),
    out_indices=(1, 2, 4, 6),
    norm_cfg=dict(type='BN', requires_grad=True),
    act_cfg=dict(type='ReLU6'),
    norm_eval=False,
    # From scratch: MMSegmentation's own initialisation (Kaiming convolutions, BN at 1).
    init_cfg=None)
student_in_channels = [24, 32, 96, 320]
# ImageNet weights, for student_backbone's init_cfg: MMPretrain's mobilenet-v2_8xb32_in1k
# (mmcls://mobilenet_v2, i.e. download.openmmlab.com/mmclassification/v0/mobilenet_v2/
# mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth) holds a classifier's keys:
# `backbone.` + the backbone's, `head.fc.*`, and `backbone.conv2.*` (the 1280-channel
# convolution this backbone lacks). MMEngine's Pretrained(prefix='backbone.') would strip
# the prefix but leave the conv2 keys over, so the file here is converted once: the keys
# under `backbone.`, stripped, without `conv2.` (configs/students/README.md has the
# command). Nothing downloads at run time. In a Polyp-PVT segmentor, Pretrained loads
# strictly (PolypEncoderDecoder.init_weights): every key and shape must match.
imagenet_mobilenetv2 = dict(type='Pretrained', checkpoint='pretrained/mobilenet_v2_mmseg.pth')
