# The MobileNetV2 student alone on the embedded sample (CPU), at the learning rate that
# trains it from scratch (configs/students/polyppvt_mobilenetv2-lr1e-3_budget.py).
_base_ = [
    '../_base_/models/polyp_pvt_mobilenetv2.py', '../_base_/datasets/polyp_sample.py',
    '../_base_/schedules/sample_cpu.py', '../_base_/default_runtime.py'
]
model = dict(train_rates=(1.0, ), train_base_size=160)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
