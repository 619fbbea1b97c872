# ResNet-18 as a Polyp-PVT student backbone: MMSegmentation's ResNetV1c (the 7x7 stem
# replaced by three 3x3 convolutions, 32-32-64 channels). Stem (stride 2) and max pooling
# (2) bring layer1 to stride 4; layers 2-4 stride 2 each and no dilation, so the four
# outputs are the 4/8/16/32 pyramid the head expects, with 64, 128, 256 and 512 channels.
# BN as in the rest of the network (not SyncBN). 11,195,744 parameters.
# A piece without a model: polyp_pvt_resnet18.py builds the student from it, and the
# distillation configs of configs/students/ put it in place of their PVTv2-B0 student.
student_backbone = dict(
    type='ResNetV1c',
    depth=18,
    num_stages=4,
    out_indices=(0, 1, 2, 3),
    strides=(1, 2, 2, 2),
    dilations=(1, 1, 1, 1),
    style='pytorch',
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=False,
    # From scratch: MMSegmentation's own initialisation (Kaiming convolutions, BN at 1).
    init_cfg=None)
student_in_channels = [64, 128, 256, 512]
# ImageNet weights, for student_backbone's init_cfg: MMSegmentation's ResNetV1c-18
# (open-mmlab://resnet18_v1c, i.e. download.openmmlab.com/pretrain/third_party/
# resnet18_v1c-b5776b93.pth), saved as the backbone's state dict alone (its keys, without
# any classifier `fc.` keys) at this path; configs/students/README.md has the command.
# Nothing downloads at run time. In a Polyp-PVT segmentor, Pretrained loads strictly
# (PolypEncoderDecoder.init_weights): every key and shape must match.
imagenet_resnet18 = dict(type='Pretrained', checkpoint='pretrained/resnet18_v1c_mmseg.pth')
