# The B0 student alone on the embedded sample (CPU). It is also the config that evaluates
# and deploys the student distilled by kdas_pvtv2b0_sample.py.
_base_ = [
    '../_base_/models/polyp_pvt.py', '../_base_/datasets/polyp_sample.py',
    '../_base_/schedules/sample_cpu.py', '../_base_/default_runtime.py'
]
model = dict(train_rates=(1.0, ), train_base_size=160)
