"""PVTv2 (Wang et al., "PVT v2: Improved Baselines with Pyramid Vision Transformer").

One readable file in the spirit of timm's ``pvt_v2.py``. Module and parameter names follow
the official PVTv2 / Polyp-PVT code (``patch_embed1``, ``block1.0.attn.q``, ``norm1`` ...),
so official checkpoints load after stripping their prefix (see
``tools/model_converters/pvt2mmseg.py``). Attention runs through
``F.scaled_dot_product_attention``, which picks a fused kernel where one exists.

The backbone is registered in MMSegmentation's and mmpretrain's ``MODELS``, so the same
weights serve segmentation and ImageNet-style (pre-)training.
"""
import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from ...utils.checkpoint import load_weights

# embed_dims, depths, num_heads, mlp_ratios, sr_ratios of the official B0..B5 variants.
ARCH_SETTINGS = {
    'b0': dict(embed_dims=(32, 64, 160, 256), depths=(2, 2, 2, 2)),
    'b1': dict(embed_dims=(64, 128, 320, 512), depths=(2, 2, 2, 2)),
    'b2': dict(embed_dims=(64, 128, 320, 512), depths=(3, 4, 6, 3)),
    'b3': dict(embed_dims=(64, 128, 320, 512), depths=(3, 4, 18, 3)),
    'b4': dict(embed_dims=(64, 128, 320, 512), depths=(3, 8, 27, 3)),
    'b5': dict(embed_dims=(64, 128, 320, 512), depths=(3, 6, 40, 3),
               mlp_ratios=(4, 4, 4, 4)),
}
DEFAULT_SETTINGS = dict(num_heads=(1, 2, 5, 8), mlp_ratios=(8, 8, 4, 4), sr_ratios=(8, 4, 2, 1))


def drop_path(x: torch.Tensor, prob: float, training: bool) -> torch.Tensor:
    """Stochastic depth: drops the residual branch per sample."""
    if prob == 0. or not training:
        return x
    keep = 1 - prob
    mask = x.new_empty((x.shape[0], ) + (1, ) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class TokenLinear(nn.Linear):
    """``nn.Linear`` over B x N x C tokens, applied to the (B*N) x C matrix.

    PyTorch folds the token axes into one matrix product either way (same result, same
    kernels); the difference is the exported graph: ONNX Runtime fuses a 2-D MatMul and its
    bias Add into one Gemm, but not a 3-D one with a dynamic batch axis.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3:
            return super().forward(x)
        return super().forward(x.reshape(-1, x.shape[-1])).view(*x.shape[:-1], -1)


def tokens_to_conv(conv: nn.Conv2d):
    """Applies ``conv`` to a B x N x C token sequence laid out as an H x W image.

    The tokens are viewed as a channels-last image (no copy), the convolution keeps that
    layout, and the result is viewed back as tokens: the transposes of the official code
    (two full copies per call) disappear while the values stay the same.
    """

    def apply(x, h, w):
        b, _, c = x.shape
        y = conv(x.reshape(b, h, w, c).permute(0, 3, 1, 2))
        return y.permute(0, 2, 3, 1).reshape(b, -1, y.shape[1])

    return apply


def pretrained_hint(arch: str) -> str:
    """What to run when ImageNet weights are missing or do not fit."""
    return (f'Get the ImageNet weights of PVTv2-{arch.upper()} (pvt_v2_{arch}.pth, released '
            'with PVTv2 at github.com/whai362/PVT) and convert them: python '
            f'tools/model_converters/pvt2mmseg.py pvt_v2_{arch}.pth '
            f'pretrained/pvt_v2_{arch}_mmseg.pth; or train from scratch with '
            '--cfg-options model.backbone.init_cfg=None')


class OverlapPatchEmbed(nn.Module):
    """Strided convolution whose kernel overlaps neighbouring patches, then LayerNorm."""

    def __init__(self, in_channels: int, embed_dim: int, patch_size: int, stride: int):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, patch_size, stride, patch_size // 2)
        # The official code keeps torch's default eps (1e-5) here and in the SR norm.
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        x = self.proj(x)
        h, w = x.shape[2:]
        return self.norm(x.permute(0, 2, 3, 1).reshape(x.shape[0], h * w, -1)), h, w


class SpatialReductionAttention(nn.Module):
    """Multi-head attention whose keys and values come from a map reduced by ``sr_ratio``."""

    def __init__(self, dim: int, num_heads: int, sr_ratio: int, qkv_bias: bool = True,
                 attn_drop: float = 0., proj_drop: float = 0.):
        super().__init__()
        assert dim % num_heads == 0, f'dim {dim} is not divisible by num_heads {num_heads}'
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.q = TokenLinear(dim, dim, bias=qkv_bias)
        self.kv = TokenLinear(dim, dim * 2, bias=qkv_bias)
        self.proj = TokenLinear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, sr_ratio)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        heads = self.num_heads
        q = self.q(x).reshape(b, n, heads, c // heads).transpose(1, 2)
        if self.sr_ratio > 1:
            x = self.norm(tokens_to_conv(self.sr)(x, h, w))
        k, v = self.kv(x).reshape(b, -1, 2, heads, c // heads).permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        x = x.transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(x))


class DWConv(nn.Module):
    """3x3 depth-wise convolution on a token sequence laid back out as an image."""

    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x, h, w):
        return tokens_to_conv(self.dwconv)(x, h, w)


class MixFFN(nn.Module):
    """Linear -> depth-wise conv -> GELU -> linear: the conv supplies positional cues."""

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.):
        super().__init__()
        self.fc1 = TokenLinear(dim, hidden_dim)
        self.dwconv = DWConv(hidden_dim)
        self.act = nn.GELU()
        self.fc2 = TokenLinear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x, h, w):
        if torch.onnx.is_in_onnx_export():
            return self.forward_as_convolutions(x, h, w)
        x = self.dwconv(self.fc1(x), h, w)
        # In inference the activation may overwrite its input: one buffer fewer per block.
        x = torch.ops.aten.gelu_(x) if not torch.is_grad_enabled() else self.act(x)
        return self.drop(self.fc2(self.drop(x)))

    def forward_as_convolutions(self, x, h, w):
        """The same function, with the linears as 1 x 1 convolutions on the tokens viewed as
        a channels-last image: what the exported graph holds.

        ONNX Runtime runs convolutions in a blocked layout (NCHWc). With linears on tokens
        around the depth-wise convolution it converts the wide hidden tensor into that
        layout and back in every block (docs/benchmarks.md); with all three
        as convolutions the hidden tensor stays blocked from ``fc1`` to ``fc2``. Eager
        PyTorch and training keep the token-wise linears: no faster as convolutions there,
        and their float rounding is what the documented training runs reproduce.
        """
        b, n, c = x.shape
        image = x.reshape(b, h, w, c).permute(0, 3, 1, 2)
        x = F.conv2d(image, self.fc1.weight[:, :, None, None], self.fc1.bias)
        x = self.drop(self.act(self.dwconv.dwconv(x)))
        x = F.conv2d(x, self.fc2.weight[:, :, None, None], self.fc2.bias)
        return self.drop(x.permute(0, 2, 3, 1).reshape(b, n, c))


class Block(nn.Module):

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, sr_ratio: int,
                 qkv_bias: bool = True, drop: float = 0., attn_drop: float = 0.,
                 drop_path: float = 0., norm_eps: float = 1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = SpatialReductionAttention(dim, num_heads, sr_ratio, qkv_bias, attn_drop,
                                              drop)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = MixFFN(dim, int(dim * mlp_ratio), drop)
        self.drop_path = drop_path

    def forward(self, x, h, w):
        x = x + drop_path(self.attn(self.norm1(x), h, w), self.drop_path, self.training)
        mlp = drop_path(self.mlp(self.norm2(x), h, w), self.drop_path, self.training)
        # x is this block's own tensor: without autograd it can take the sum in place.
        return x.add_(mlp) if not torch.is_grad_enabled() else x + mlp


class PVTv2(BaseModule):
    """PVTv2 backbone returning the four stage feature maps (strides 4, 8, 16, 32).

    Args:
        arch (str | dict): ``'b0'`` .. ``'b5'``, or a dict with ``embed_dims`` and
            ``depths`` (and optionally ``num_heads``, ``mlp_ratios``, ``sr_ratios``).
        in_channels (int): Input image channels.
        out_indices (Sequence[int]): Stages whose outputs are returned.
        qkv_bias (bool): Bias in the query/key/value projections.
        drop_rate (float): Dropout after the MLP and attention projections.
        attn_drop_rate (float): Dropout on attention weights.
        drop_path_rate (float): Stochastic depth, increasing linearly over the blocks.
        norm_eps (float): LayerNorm epsilon of the blocks and stage norms.
        frozen_stages (int): Stages (from the first) kept frozen and in eval mode; -1: none.
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained', checkpoint=...)`` with a
            checkpoint converted by ``tools/model_converters/pvt2mmseg.py``.
    """

    def __init__(self, arch='b0', in_channels: int = 3, out_indices: Sequence[int] = (0, 1, 2, 3),
                 qkv_bias: bool = True, drop_rate: float = 0., attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1, norm_eps: float = 1e-6, frozen_stages: int = -1,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.arch_name = arch.lower() if isinstance(arch, str) else 'custom'
        if isinstance(arch, str):
            if arch.lower() not in ARCH_SETTINGS:
                raise KeyError(f'unknown PVTv2 arch {arch!r}; choose from '
                               f'{sorted(ARCH_SETTINGS)} or pass a dict')
            arch = ARCH_SETTINGS[arch.lower()]
        settings = {**DEFAULT_SETTINGS, **arch}
        self.embed_dims = tuple(settings['embed_dims'])
        self.depths = tuple(settings['depths'])
        self.num_stages = len(self.depths)
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages

        dpr = torch.linspace(0, drop_path_rate, sum(self.depths)).tolist()
        cursor = 0
        prev_dim = in_channels
        for i, (dim, depth) in enumerate(zip(self.embed_dims, self.depths), start=1):
            patch_size, stride = (7, 4) if i == 1 else (3, 2)
            self.add_module(f'patch_embed{i}', OverlapPatchEmbed(prev_dim, dim, patch_size,
                                                                 stride))
            self.add_module(f'block{i}', nn.ModuleList([
                Block(dim, settings['num_heads'][i - 1], settings['mlp_ratios'][i - 1],
                      settings['sr_ratios'][i - 1], qkv_bias, drop_rate, attn_drop_rate,
                      dpr[cursor + j], norm_eps) for j in range(depth)
            ]))
            self.add_module(f'norm{i}', nn.LayerNorm(dim, eps=norm_eps))
            cursor += depth
            prev_dim = dim

    # its init_weights loads a Pretrained init_cfg strictly itself, with a conversion hint
    loads_pretrained_strictly = True

    def init_weights(self):
        init_cfg = self.init_cfg
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            # MMEngine's Pretrained initialiser loads with strict=False, so weights of
            # another variant would leave most of the backbone random after a warning.
            load_weights(self, init_cfg['checkpoint'], what='PVTv2 backbone',
                         prefix=init_cfg.get('prefix'), hint=pretrained_hint(self.arch_name))
            self._is_init = True
            return
        if init_cfg is not None:
            super().init_weights()
            return
        # The official initialisation: truncated normal linears, fan-out normal convs.
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                nn.init.normal_(m.weight, 0, math.sqrt(2.0 / fan_out))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _freeze_stages(self):
        for i in range(1, self.frozen_stages + 1):
            for name in (f'patch_embed{i}', f'block{i}', f'norm{i}'):
                module = getattr(self, name)
                module.eval()
                for p in module.parameters():
                    p.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        return self

    def forward(self, x):
        outs = []
        for i in range(1, self.num_stages + 1):
            x, h, w = getattr(self, f'patch_embed{i}')(x)
            for block in getattr(self, f'block{i}'):
                x = block(x, h, w)
            x = getattr(self, f'norm{i}')(x)
            # A channels-last view: convolutions downstream take it without a copy.
            x = x.reshape(x.shape[0], h, w, -1).permute(0, 3, 1, 2)
            if i - 1 in self.out_indices:
                outs.append(x)
        return tuple(outs)
