"""The paired bootstrap behind docs/results.md's comparisons, against what it must give."""
import numpy as np
import pytest

from kdas.experiments.paired import paired_bootstrap, paired_differences


def test_differences_pair_seeds_and_images_by_name():
    a = [{'x': {'Dice@0.5': 0.9}, 'y': {'Dice@0.5': 0.5}},
         {'x': {'Dice@0.5': 0.7}, 'y': {'Dice@0.5': 0.6}}]
    b = [{'y': {'Dice@0.5': 0.4}, 'x': {'Dice@0.5': 0.8}},
         {'x': {'Dice@0.5': 0.7}, 'y': {'Dice@0.5': 0.9}}]
    np.testing.assert_allclose(paired_differences(a, b), [[0.1, 0.1], [0.0, -0.3]])
    with pytest.raises(ValueError, match='same images'):
        paired_differences(a, [b[0], {'x': {'Dice@0.5': 0.1}}])
    with pytest.raises(ValueError, match='number of seeds'):
        paired_differences(a, b[:1])


def test_a_constant_difference_has_a_zero_width_interval():
    assert paired_bootstrap(np.full((3, 50), 0.02), draws=200) == pytest.approx(
        (0.02, 0.02, 0.02))


def test_one_seed_matches_the_normal_approximation():
    # one seed of n iid differences: the 95 % bootstrap interval of the mean is
    # mean +- 1.96 sd / sqrt(n) to within a few per cent for n this large
    rng = np.random.default_rng(1)
    diffs = rng.normal(0.03, 0.2, size=(1, 400))
    mean, low, high = paired_bootstrap(diffs, draws=4000)
    half = 1.96 * diffs.std() / np.sqrt(400)
    assert mean == pytest.approx(diffs.mean())
    assert low == pytest.approx(mean - half, abs=0.1 * half)
    assert high == pytest.approx(mean + half, abs=0.1 * half)


def test_disagreeing_seeds_widen_the_interval():
    # the same images, one seed gaining 0.05 everywhere and one losing 0.05: the
    # objective's effect is not established, and the interval must contain zero
    diffs = np.stack([np.full(100, 0.05), np.full(100, -0.05)])
    diffs += np.random.default_rng(2).normal(0, 0.01, size=diffs.shape)
    mean, low, high = paired_bootstrap(diffs, draws=2000)
    assert low < 0 < high and high - low > 0.05
