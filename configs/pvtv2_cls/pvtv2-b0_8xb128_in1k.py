# ImageNet-1k classification with the kdas PVTv2 backbone, for mmpretrain's runner:
#   python -m mim train mmpretrain configs/pvtv2_cls/pvtv2-b0_8xb128_in1k.py  (or
#   mmpretrain's tools/train.py). The official PVTv2 recipe: AdamW 1e-3 x bs/1024, weight
#   decay 0.05, cosine schedule with warm-up, 300 epochs, Swin-style augmentation.
# Convert the result for the segmentors with tools/model_converters/pvt2mmseg.py.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    'mmpretrain::_base_/default_runtime.py'
]
custom_imports = dict(imports=['kdas.pretrain'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='PVTv2', arch='b0', out_indices=(3, ), drop_path_rate=0.1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=256,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))
train_dataloader = dict(batch_size=128)
optim_wrapper = dict(optimizer=dict(lr=1e-3))  # 8 x 128 = 1024 images per step
