# The real sample shipped in data/polyp_sample (24 + 24 training pairs, 8 + 8 test pairs of
# Kvasir-SEG and CVC-ClinicDB, reduced), at a CPU-friendly 160 x 160.
_base_ = './polyp.py'
data_root = 'data/polyp_sample'
crop_size = (160, 160)


def _resized(pipeline):
    return [dict(t, scale=crop_size) if t['type'] == 'Resize' else t for t in pipeline]


train_pipeline = _resized(_base_.train_pipeline)
test_pipeline = _resized(_base_.test_pipeline)
seen_test_sets = [
    dict(name='Kvasir', folder='Kvasir-SEG', split='splits/kvasir_test.txt'),
    dict(name='CVC-ClinicDB', folder='CVC-ClinicDB', split='splits/clinicdb_test.txt')
]
train_dataloader = dict(
    batch_size=8, num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(data_root=data_root, subsets=seen_test_sets, pipeline=test_pipeline))
test_dataloader = val_dataloader
