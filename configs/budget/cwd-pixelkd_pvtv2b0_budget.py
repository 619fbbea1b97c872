# docs/results.md row (CPU budget: 160 px, 12 epochs): channel-wise distillation of the
# decoder features plus pixel-wise response KD on P1 and P2.
_base_ = [
    '../_base_/models/cwd-pixelkd_polyp_pvt.py', '../_base_/datasets/polyp_160.py',
    '../_base_/schedules/budget_cpu.py', '../_base_/default_runtime.py'
]
model = dict(train_rates=(1.0, ), train_base_size=160)
