# docs/results.md, row "student alone, lr 1e-3": polyppvt_pvtv2b0_budget.py at AdamW lr 1e-3
# instead of 1e-4, the learning rate the MobileNetV2 student trains at
# (configs/students/polyppvt_mobilenetv2-lr1e-3_budget.py), so that the two compare at one
# learning rate.
_base_ = './polyppvt_pvtv2b0_budget.py'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
