# The MobileNetV2 student alone at AdamW lr 1e-3 instead of the budget's 1e-4 (the paper's,
# set for PVTv2 students): a convolutional network from scratch, with batch norm after
# every convolution, takes a larger step. Everything else is polyppvt_mobilenetv2_budget.py.
_base_ = './polyppvt_mobilenetv2_budget.py'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
