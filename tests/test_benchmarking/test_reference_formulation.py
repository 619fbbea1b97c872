"""The public code's formulation of PVTv2 that the benchmark sets this project's against."""
import torch


def test_benchmark_reference_formulation_gives_the_same_features():
    """The ratio benchmark.py reports compares formulations of one function."""
    from kdas.benchmarking import reference_formulation as benchmark
    torch.manual_seed(0)
    backbone = benchmark.PVTv2('b0').eval()
    x = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        ours = backbone(x)
        with benchmark.reference_formulation():
            reference = backbone(x)
        # the swap is undone on leaving the context
        again = backbone(x)
    assert benchmark.MixFFN.forward is not benchmark.reference_mlp
    for a, r, g in zip(ours, reference, again):
        torch.testing.assert_close(a, r, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(g, a)
