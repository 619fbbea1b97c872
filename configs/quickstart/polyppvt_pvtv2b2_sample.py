# Quick start, step 1: a small Polyp-PVT B2 teacher on the embedded sample (CPU).
_base_ = [
    '../_base_/models/polyp_pvt.py', '../_base_/datasets/polyp_sample.py',
    '../_base_/schedules/sample_cpu.py', '../_base_/default_runtime.py'
]
model = dict(_delete_=True, **_base_.teacher_model)
model.update(train_rates=(1.0, ), train_base_size=160)
