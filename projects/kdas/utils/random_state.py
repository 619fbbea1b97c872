"""Random streams that are a function of where training is, not of what ran before.

MMEngine seeds once at start-up and does not checkpoint the random state, and its data
workers are seeded ``seed + worker id`` once. A run resumed at epoch k therefore draws other
augmentations and other multi-scale choices than the uninterrupted run did from epoch k on.
Seeding from (seed, epoch, sample) and (seed, iteration) instead makes every draw a function
of the position in training, so stopping and resuming changes nothing.
"""
from typing import NamedTuple

import numpy as np


class SeededIndex(NamedTuple):
    """A sample's index with the seed its augmentation draws from: what a sampler hands a
    dataset so that the seed travels with the index into the data worker (the dataset
    seeds the worker's generators with it before the pipeline runs)."""
    index: int
    seed: int


def derive_seed(*keys: int) -> int:
    """A 32-bit seed from non-negative integer keys; nearby keys give unrelated streams
    (``SeedSequence`` hashes them), unlike ``seed + k``."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])

