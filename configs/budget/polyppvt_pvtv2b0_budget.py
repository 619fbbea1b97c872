# docs/results.md, row "student alone": PVTv2-B0 Polyp-PVT from scratch, 12 epochs, 160 px.
_base_ = [
    '../_base_/models/polyp_pvt.py', '../_base_/datasets/polyp_160.py',
    '../_base_/schedules/budget_cpu.py', '../_base_/default_runtime.py'
]
model = dict(train_rates=(1.0, ), train_base_size=160)
