default_scope = 'mmseg'
# Registers kdas's components and its weights_only checkpoint loader.
custom_imports = dict(imports=['kdas'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# LocalVisBackend with checked, atomic image writes (kdas).
vis_backends = [dict(type='CheckedLocalVisBackend')]
# PolypVisualizer: the image at full brightness, prediction against ground truth (kdas).
visualizer = dict(type='PolypVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
# With the train loader's EpochSeededSampler: every random draw is a function of the seed and
# the position in training, and what a model keeps outside its weights (balanced loss terms'
# running means) travels in checkpoints, so a resumed run trains exactly what an
# uninterrupted one would.
# DivergenceGuardHook stops the run at the first NaN or infinite loss, before it is saved.
custom_hooks = [dict(type='IterationSeedHook'), dict(type='TrainStateHook'),
                dict(type='DivergenceGuardHook')]
# Under a distributed launcher: DDP that keeps the multi-scale schedule of our segmentors.
model_wrapper_cfg = dict(type='MultiScaleDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)
