# The student alone: configs/budget/polyppvt_pvtv2b0_budget.py with the ResNet-18 (ResNetV1c)
# student in place of PVTv2-B0, from scratch, 12 epochs, 160 px. Also the config that tests
# and deploys the students that this folder's resnet18 distillation configs train.
_base_ = [
    '../_base_/models/polyp_pvt_resnet18.py', '../_base_/datasets/polyp_160.py',
    '../_base_/schedules/budget_cpu.py', '../_base_/default_runtime.py'
]
model = dict(train_rates=(1.0, ), train_base_size=160)
