"""Is one training objective better than another? A paired bootstrap over images and seeds.

Two rows of docs/results.md are compared on the same test images: for each seed k that both
have, the per-image difference ``score(A, seed k, image) - score(B, seed k, image)``. The
interval resamples images (the same draw for every seed, keeping the pairing) and seeds,
both with replacement, and takes percentiles of the mean difference. Seeds are resampled
because a gain that one lucky initialisation produces is not a gain of the objective.
"""
from typing import Dict, Sequence

import numpy as np


def paired_differences(a: Sequence[Dict[str, dict]], b: Sequence[Dict[str, dict]],
                       column: str = 'Dice@0.5') -> np.ndarray:
    """seeds x images array of ``a - b`` from per-image score tables (image -> scores), one
    per seed, paired in order; the images must be the same in every table."""
    if len(a) != len(b) or not a:
        raise ValueError(f'need the same, non-zero number of seeds on both sides '
                         f'({len(a)} vs {len(b)})')
    images = sorted(a[0])
    for table in list(a) + list(b):
        if sorted(table) != images:
            raise ValueError('the per-image tables do not cover the same images')
    return np.array([[ta[i][column] - tb[i][column] for i in images]
                     for ta, tb in zip(a, b)], dtype=np.float64)


def paired_bootstrap(diffs: np.ndarray, draws: int = 10000, level: float = 0.95,
                     seed: int = 0):
    """(mean, low, high) of the mean of a seeds x images array of paired differences."""
    diffs = np.atleast_2d(np.asarray(diffs, dtype=np.float64))
    n_seeds, n_images = diffs.shape
    rng = np.random.default_rng(seed)
    means = np.empty(draws)
    for d in range(draws):
        seeds = rng.integers(0, n_seeds, n_seeds)
        images = rng.integers(0, n_images, n_images)
        means[d] = diffs[np.ix_(seeds, images)].mean()
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(diffs.mean()), float(low), float(high)
