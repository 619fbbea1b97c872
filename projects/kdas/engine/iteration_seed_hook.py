"""Reseeds the training process at every iteration, so that a resumed run draws what the
uninterrupted run drew (see :mod:`kdas.utils.random_state`)."""
from mmengine.hooks import Hook
from mmengine.runner import set_random_seed
from mmseg.registry import HOOKS

from ..utils.random_state import derive_seed


@HOOKS.register_module()
class IterationSeedHook(Hook):
    """Seeds the main process's generators from (run seed, iteration) before each training
    iteration.

    What draws there (drop path, the multi-scale schedule's choices, dropout) then depends
    on the iteration alone: MMEngine neither checkpoints the generators' state nor restores
    it on ``--resume``. Reseeding costs microseconds. Data workers are covered by
    :class:`EpochSeededSampler`.
    """
    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        set_random_seed(derive_seed(runner.seed, runner.iter))
