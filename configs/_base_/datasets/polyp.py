# Polyp data as laid out by tools/dataset_converters/polyp.py, under one root:
#   data/polyp/{Kvasir-SEG,CVC-ClinicDB,CVC-ColonDB,ETIS-LaribPolypDB,CVC-300}/{images,masks}
#   data/polyp/splits/{kvasir,clinicdb}_{train,test}.txt
# Train: the merged Kvasir-SEG (900) + CVC-ClinicDB (550) split of PraNet / Polyp-PVT.
# Val: the seen-domain test sets. Test: all five test sets, one metric row each.
data_root = 'data/polyp'
crop_size = (352, 352)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label', 'dataset_name')
# LoadPolypImageFromFile: mmcv's loader, with an error naming a truncated or unreadable file.
train_pipeline = [
    dict(type='LoadPolypImageFromFile'),
    dict(type='LoadPolypAnnotation'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    # The reference rotates by up to 90 degrees and fills with background.
    dict(type='RandomRotate', prob=1.0, degree=90, pad_val=0, seg_pad_val=0),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
# Masks are loaded after the resize: metrics are computed at each mask's own resolution.
# mmcv's own image loader: MMSegmentation's inferencer looks the test pipeline's loader up by
# that name; the test sets' files are checked when the dataset is built (PolypDataset).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadPolypAnnotation'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    # DefaultSampler's order, each index with its own augmentation seed (kdas).
    sampler=dict(type='EpochSeededSampler', shuffle=True),
    dataset=dict(type='PolypTrainDataset', data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PolypTestDataset',
        data_root=data_root,
        subsets=[
            dict(name='Kvasir', folder='Kvasir-SEG', split='splits/kvasir_test.txt'),
            dict(name='CVC-ClinicDB', folder='CVC-ClinicDB', split='splits/clinicdb_test.txt')
        ],
        pipeline=test_pipeline))
# PolypTestDataset's default subsets: Kvasir, CVC-ClinicDB, CVC-ColonDB, ETIS, CVC-300.
test_dataloader = dict(
    val_dataloader,
    dataset=dict(type='PolypTestDataset', data_root=data_root, pipeline=test_pipeline))
val_evaluator = dict(type='PolypMetric')
test_evaluator = val_evaluator
