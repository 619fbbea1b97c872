# The ResNet-18 student alone at AdamW lr 1e-3 instead of the budget's 1e-4, the learning rate
# at which the MobileNetV2 student trains from scratch (polyppvt_mobilenetv2-lr1e-3_budget.py):
# the screen of the two CNN students at one learning rate. Everything else is
# polyppvt_resnet18_budget.py.
_base_ = './polyppvt_resnet18_budget.py'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
