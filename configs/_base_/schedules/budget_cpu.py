# The CPU budget of docs/results.md: the paper's optimiser (AdamW 1e-4 / 1e-4, value
# clipping 0.5), a checkpoint every epoch so that runs resume, evaluation at the end.
_base_ = './adamw_100e.py'
train_cfg = dict(max_epochs=12, val_interval=12)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
# Single-process CPU runs whose learning rate is set for their own batch.
auto_scale_lr = dict(enable=False)
