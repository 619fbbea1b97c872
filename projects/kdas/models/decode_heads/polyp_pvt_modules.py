"""The three decoder modules of Polyp-PVT (Dong et al., 2021): CIM, CFM and SAM.

Parameter names follow the official code so that checkpoints convert by renaming only.
Resizes target the size of the map they are combined with (rather than a fixed factor),
so inputs whose side is not a multiple of 32 work; for multiples of 32 the result is the
official one.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule


def resize_as(x, ref, align_corners=True):
    """Bilinear resize of ``x`` to the spatial size of ``ref`` (no-op when equal)."""
    if x.shape[-2:] == ref.shape[-2:]:
        return x
    return F.interpolate(x, size=ref.shape[-2:], mode='bilinear', align_corners=align_corners)


def conv_bn(in_channels, out_channels, kernel_size, norm_cfg):
    """Convolution + norm without activation (the official ``BasicConv2d``)."""
    return ConvModule(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                      norm_cfg=norm_cfg, act_cfg=None)


class ChannelAttention(nn.Module):

    def __init__(self, channels, ratio=16):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // ratio, 1, bias=False)
        self.fc2 = nn.Conv2d(channels // ratio, channels, 1, bias=False)

    def forward(self, x):
        avg = self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1))))
        peak = self.fc2(F.relu(self.fc1(F.adaptive_max_pool2d(x, 1))))
        return torch.sigmoid(avg + peak)


class SpatialAttention(nn.Module):

    def __init__(self, kernel_size=7):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x):
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.conv1(pooled))


class CIM(nn.Module):
    """Camouflage identification: channel then spatial attention on the stride-4 feature,
    translated to ``channels``. Returns the stride-4 map; the head brings it to stride 8."""

    def __init__(self, in_channels, channels, norm_cfg):
        super().__init__()
        self.ca = ChannelAttention(in_channels)
        self.sa = SpatialAttention()
        self.translate = conv_bn(in_channels, channels, 1, norm_cfg)

    def forward(self, x):
        x = self.ca(x) * x
        x = self.sa(x) * x
        return self.translate(x)


class CFM(nn.Module):
    """Cascaded fusion of the stride-32, -16 and -8 features into one stride-8 map."""

    def __init__(self, channels, norm_cfg):
        super().__init__()
        c = channels
        for i in range(1, 5):
            self.add_module(f'conv_upsample{i}', conv_bn(c, c, 3, norm_cfg))
        self.conv_upsample5 = conv_bn(2 * c, 2 * c, 3, norm_cfg)
        self.conv_concat2 = conv_bn(2 * c, 2 * c, 3, norm_cfg)
        self.conv_concat3 = conv_bn(3 * c, 3 * c, 3, norm_cfg)
        self.conv4 = conv_bn(3 * c, c, 3, norm_cfg)

    def forward(self, x32, x16, x8):
        x32_up16 = resize_as(x32, x16)
        x32_up8 = resize_as(x32_up16, x8)
        fused16 = self.conv_upsample1(x32_up16) * x16
        fused8 = self.conv_upsample2(x32_up8) * self.conv_upsample3(resize_as(x16, x8)) * x8
        cat16 = self.conv_concat2(torch.cat([fused16, self.conv_upsample4(x32_up16)], dim=1))
        cat8 = self.conv_concat3(
            torch.cat([fused8, self.conv_upsample5(resize_as(cat16, x8))], dim=1))
        return self.conv4(cat8)


class GCN(nn.Module):
    """Graph convolution over ``num_node`` nodes with ``num_state`` channels each."""

    def __init__(self, num_state, num_node):
        super().__init__()
        self.conv1 = nn.Conv1d(num_node, num_node, 1)
        self.conv2 = nn.Conv1d(num_state, num_state, 1, bias=False)

    def forward(self, x):
        h = self.conv1(x.transpose(1, 2)).transpose(1, 2) - x
        return F.relu(self.conv2(h))


class SAM(nn.Module):
    """Similarity aggregation: pixels are softly assigned to ``mids**2`` anchor nodes pooled
    from the CIM-masked projection, reasoned over by a GCN, and projected back."""

    def __init__(self, channels=32, num_state=16, mids=4):
        super().__init__()
        self.num_state = num_state
        self.mids = mids
        self.conv_state = nn.Conv2d(channels, num_state, 1)
        self.conv_proj = nn.Conv2d(channels, num_state, 1)
        self.gcn = GCN(num_state, mids * mids)
        self.conv_extend = nn.Conv2d(num_state, channels, 1, bias=False)

    def forward(self, x, edge):
        n, _, h, w = x.shape
        if edge.shape[-2:] != x.shape[-2:]:
            edge = F.interpolate(edge, size=(h, w), mode='nearest')
        edge = edge.softmax(dim=1)[:, 1:2]
        state = self.conv_state(x).flatten(2)
        proj = self.conv_proj(x)
        anchors = F.adaptive_avg_pool2d(proj * edge, self.mids + 2)[:, :, 1:-1, 1:-1]
        assign = torch.bmm(anchors.flatten(2).transpose(1, 2), proj.flatten(2)).softmax(dim=1)
        node_state = self.gcn(torch.bmm(state, assign.transpose(1, 2)))
        state = torch.bmm(node_state, assign).view(n, self.num_state, h, w)
        return x + self.conv_extend(state)
