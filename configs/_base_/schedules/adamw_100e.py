# The Polyp-PVT / KDAS recipe: AdamW 1e-4 / 1e-4, gradient values clipped to [-0.5, 0.5],
# 100 epochs (the public code; the paper says 120).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(type='value', clip_value=0.5))
param_scheduler = []
# The learning rate is for a global batch of 16: with N processes of batch B it is scaled
# by N * B / 16 (tools/dist_train.sh CONFIG 4 trains with 64 at 4e-4).
auto_scale_lr = dict(enable=True, base_batch_size=16)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # CheckpointHook's arguments; atomic saves that a kill or a full disk cannot break (kdas).
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=2,
                    save_best='mDice', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
