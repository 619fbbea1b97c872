# Polyp-PVT (PVTv2 backbone + CIM/CFM/SAM decoder). `model` is the PVTv2-B0 student;
# `teacher_model` the PVTv2-B2 network that KDAS distils from.
norm_cfg = dict(type='BN', requires_grad=True)
# ImageNet PVTv2 weights for the paper recipe's configs, converted with
# tools/model_converters/pvt2mmseg.py (configs/polyp_pvt/README.md).
imagenet_b0 = dict(type='Pretrained', checkpoint='pretrained/pvt_v2_b0_mmseg.pth')
imagenet_b2 = dict(type='Pretrained', checkpoint='pretrained/pvt_v2_b2_mmseg.pth')
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
model = dict(
    type='PolypEncoderDecoder',
    data_preprocessor=data_preprocessor,
    # The reference multi-scale schedule: each batch at 264->256, 352 and 440->448 px,
    # a backward pass and an optimiser step for each. (1.0, ) trains at 352 only.
    train_rates=(0.75, 1.0, 1.25),
    train_base_size=352,
    backbone=dict(type='PVTv2', arch='b0', drop_path_rate=0.1),
    decode_head=dict(
        type='PolypPVTHead',
        in_channels=[32, 64, 160, 256],
        channels=32,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        loss_decode=dict(type='StructureLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
teacher_model = dict(
    model,
    backbone=dict(model['backbone'], arch='b2'),
    decode_head=dict(model['decode_head'], in_channels=[64, 128, 320, 512]))
