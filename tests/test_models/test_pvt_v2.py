import pytest
import torch
import torch.nn.functional as F

from kdas.models.backbones import ARCH_SETTINGS, PVTv2
from kdas.models.backbones.pvt_v2 import MixFFN, SpatialReductionAttention


def count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('arch', sorted(ARCH_SETTINGS))
def test_stage_shapes(arch):
    model = PVTv2(arch).eval()
    dims = ARCH_SETTINGS[arch]['embed_dims']
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 96))
    assert [o.shape for o in outs] == [
        (1, dims[i], 64 // s, 96 // s) for i, s in enumerate((4, 8, 16, 32))
    ]


def test_parameter_counts_match_the_reference_code():
    assert f'{count(PVTv2("b0")) / 1e6:.3f}' == '3.410'
    assert f'{count(PVTv2("b2")) / 1e6:.3f}' == '24.850'


def test_sdpa_equals_explicit_softmax_attention():
    torch.manual_seed(0)
    attn = SpatialReductionAttention(64, num_heads=2, sr_ratio=2).eval()
    x = torch.randn(2, 8 * 8, 64)
    b, n, c = x.shape
    # The official formulation, written out.
    q = attn.q(x).reshape(b, n, 2, c // 2).permute(0, 2, 1, 3)
    x_ = attn.norm(attn.sr(x.transpose(1, 2).reshape(b, c, 8, 8)).flatten(2).transpose(1, 2))
    k, v = attn.kv(x_).reshape(b, -1, 2, 2, c // 2).permute(2, 0, 3, 1, 4)
    weights = ((q @ k.transpose(-2, -1)) * (c // 2)**-0.5).softmax(dim=-1)
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(b, n, c))
    torch.testing.assert_close(attn(x, 8, 8), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('grad', [False, True])
def test_mix_ffn_as_convolutions_equals_token_wise_linears(grad):
    """The exported formulation (1 x 1 convolutions) gives the official token-wise MLP's
    values and gradients, and so does the eager one."""
    torch.manual_seed(0)
    mlp = MixFFN(32, 256).eval()
    x = torch.randn(2, 6 * 10, 32)
    b, n, c = x.shape

    def official(x):
        y = F.linear(x, mlp.fc1.weight, mlp.fc1.bias)
        y = mlp.dwconv.dwconv(y.transpose(1, 2).reshape(b, 256, 6, 10)).flatten(2).transpose(1, 2)
        return F.linear(F.gelu(y), mlp.fc2.weight, mlp.fc2.bias)

    with torch.set_grad_enabled(grad):
        as_convolutions = mlp.forward_as_convolutions(x, 6, 10)
        eager = mlp(x, 6, 10)
    expected = official(x)
    torch.testing.assert_close(as_convolutions, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(eager, expected, atol=1e-5, rtol=1e-5)
    if grad:
        weights = (mlp.fc1.weight, mlp.fc2.bias, mlp.dwconv.dwconv.weight)
        g_ours = torch.autograd.grad(as_convolutions.square().sum(), weights)
        g_expected = torch.autograd.grad(expected.square().sum(), weights)
        for a, e in zip(g_ours, g_expected):
            torch.testing.assert_close(a, e, atol=1e-4, rtol=1e-4)


def test_exported_mix_ffn_holds_convolutions_only(tmp_path):
    """The ONNX graph takes the convolution formulation (no Gemm / MatMul left for ONNX
    Runtime to wrap in layout conversions), and ONNX Runtime reproduces eager PyTorch."""
    onnx = pytest.importorskip('onnx')
    ort = pytest.importorskip('onnxruntime')

    class Tokens(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.mlp = MixFFN(32, 64)

        def forward(self, x):
            return self.mlp(x, 6, 10)

    torch.manual_seed(0)
    model = Tokens().eval()
    x = torch.randn(1, 60, 32)
    path = str(tmp_path / 'mlp.onnx')
    torch.onnx.export(model, (x, ), path, dynamo=True, verbose=False)
    ops = [node.op_type for node in onnx.load(path).graph.node]
    assert ops.count('Conv') == 3 and not {'Gemm', 'MatMul'} & set(ops), ops
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    out = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(out), model(x), atol=1e-5, rtol=1e-5)


def test_unknown_arch_is_named():
    with pytest.raises(KeyError, match="'b9'"):
        PVTv2('b9')


def test_frozen_stages_stay_frozen_and_in_eval_mode():
    model = PVTv2('b0', frozen_stages=1)
    model.train()
    assert not any(p.requires_grad for p in model.block1.parameters())
    assert not model.block1.training and model.block2.training
    assert all(p.requires_grad for p in model.block2.parameters())


def test_drop_path_only_in_training():
    model = PVTv2('b0', drop_path_rate=0.5)
    x = torch.randn(2, 3, 64, 64)
    model.eval()
    with torch.no_grad():
        a, b = model(x)[-1], model(x)[-1]
    assert torch.equal(a, b)
    model.train()
    torch.manual_seed(0)
    with torch.no_grad():
        c = model(x)[-1]
    assert not torch.allclose(a, c)
    assert F.mse_loss(a, c) > 0
