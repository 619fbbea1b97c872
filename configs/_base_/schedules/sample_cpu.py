# A short CPU schedule for the embedded sample: the paper's optimiser, no multi-scale.
_base_ = './adamw_100e.py'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=20, val_interval=20)
default_hooks = dict(
    logger=dict(interval=3),
    checkpoint=dict(interval=5, max_keep_ckpts=1, save_best=None))
# Single-process CPU runs whose learning rate is set for their own batch.
auto_scale_lr = dict(enable=False)
