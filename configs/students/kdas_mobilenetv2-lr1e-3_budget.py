# KDAS as the paper defines it, into the MobileNetV2 student at AdamW lr 1e-3, the learning
# rate at which the student alone trains from scratch (polyppvt_mobilenetv2-lr1e-3_budget.py),
# so that the distilled and the plain student differ in the distillation only. Everything
# else is kdas_mobilenetv2_budget.py.
_base_ = './kdas_mobilenetv2_budget.py'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
