# The full data at 160 x 160 with flips only (no rotation): the CPU budget of
# docs/results.md. Batch 8.
_base_ = './polyp.py'
crop_size = (160, 160)
train_pipeline = [
    dict(t, scale=crop_size) if t['type'] == 'Resize' else t
    for t in _base_.train_pipeline if t['type'] != 'RandomRotate'
]
test_pipeline = [
    dict(t, scale=crop_size) if t['type'] == 'Resize' else t for t in _base_.test_pipeline
]
train_dataloader = dict(batch_size=8, num_workers=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    num_workers=1,
    dataset=dict(subsets=_base_.val_dataloader.dataset.subsets, pipeline=test_pipeline))
