# Channel-wise distillation into the MobileNetV2 student at AdamW lr 1e-3, the learning rate
# at which the student alone trains from scratch (polyppvt_mobilenetv2-lr1e-3_budget.py), so
# that the distilled and the plain student differ in the distillation only. Everything else
# is cwd_mobilenetv2_budget.py.
_base_ = './cwd_mobilenetv2_budget.py'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
