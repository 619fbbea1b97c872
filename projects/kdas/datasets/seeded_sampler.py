"""A training sampler whose indices carry their own random seed.

Augmentations run in data workers that MMEngine seeds once (``seed + worker id``); with
persistent workers their generators run on across epochs, so a run resumed at epoch k gives
its samples other flips and rotations than the uninterrupted run did. Here every sample of
every epoch carries the seed ``derive_seed(sampler seed, epoch, index)``, and
:class:`PolypDataset` seeds the worker's generators with it before the pipeline runs: the
augmentation of a sample depends only on the seed, the epoch and the sample, whatever the
number of workers and however often training was stopped.
"""
from typing import Iterator

from mmengine.dataset import DefaultSampler
from mmseg.registry import DATA_SAMPLERS

from ..utils.random_state import SeededIndex, derive_seed


@DATA_SAMPLERS.register_module()
class EpochSeededSampler(DefaultSampler):
    """:class:`DefaultSampler` (same order, same sharding) yielding :class:`SeededIndex`.

    The dataset must accept a :class:`SeededIndex` (:class:`PolypDataset` does); dataset
    wrappers that do arithmetic on indices (``ConcatDataset``, ``RepeatDataset``) do not.
    """

    def __iter__(self) -> Iterator[SeededIndex]:
        for index in super().__iter__():
            yield SeededIndex(index, derive_seed(self.seed, self.epoch, index))
