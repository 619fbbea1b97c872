import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kdas.models.losses import AttentionSupervisionLoss, SGMLoss, StructureLoss


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_structure_loss(logit, mask, k):
    """PraNet's structure loss written independently with NumPy (one image)."""
    h, w = mask.shape
    padded = np.pad(mask, k // 2)
    pooled = np.array([[padded[i:i + k, j:j + k].mean() for j in range(w)] for i in range(h)])
    weight = 1 + 5 * np.abs(pooled - mask)
    bce = np.maximum(logit, 0) - logit * mask + np.log1p(np.exp(-np.abs(logit)))
    wbce = (weight * bce).sum() / weight.sum()
    prob = 1 / (1 + np.exp(-logit))
    inter = (prob * mask * weight).sum()
    union = ((prob + mask) * weight).sum()
    return wbce + 1 - (inter + 1) / (union - inter + 1)


def test_structure_loss_by_hand_on_a_2x2_map():
    # kernel 1: avgpool(G) == G, so every weight is 1 and the loss is BCE + soft IoU.
    logit = torch.tensor([[[[0., 2.], [-1., 1.]]]])
    mask = torch.tensor([[[[0., 1.], [0., 1.]]]])
    bce = np.mean([np.log(2), np.log1p(np.exp(-2)), np.log1p(np.exp(-1)), np.log1p(np.exp(-1))])
    p = 1 / (1 + np.exp(-np.array([0., 2., -1., 1.])))
    inter = p[1] + p[3]
    union = p.sum() + 2
    expected = bce + 1 - (inter + 1) / (union - inter + 1)
    loss = StructureLoss(kernel_size=1)(logit, mask.long()[:, 0])
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_structure_loss_matches_numpy_with_boundary_weights():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 1, 9, 11)).astype(np.float32)
    masks = (rng.random((2, 9, 11)) > 0.6).astype(np.float32)
    expected = np.mean([np_structure_loss(logits[i, 0].astype(np.float64), masks[i], 5)
                        for i in range(2)])
    loss = StructureLoss(kernel_size=5, loss_weight=2.0)(torch.from_numpy(logits),
                                                         torch.from_numpy(masks).long())
    assert loss.item() == pytest.approx(2 * expected, rel=1e-5)


def test_structure_loss_ignores_ignore_index_and_rejects_non_binary():
    logit = torch.zeros(1, 1, 4, 4)
    label = torch.ones(1, 4, 4, dtype=torch.long)
    label[0, :2] = 255
    full = StructureLoss(kernel_size=1)(logit[..., 2:, :], label[:, 2:])
    part = StructureLoss(kernel_size=1)(logit, label)
    # BCE over valid pixels only; the IoU term sees masked weights too.
    assert part.item() == pytest.approx(full.item(), abs=1e-6)
    with pytest.raises(ValueError, match='binary'):
        StructureLoss()(logit, torch.full((1, 4, 4), 2))


def test_unweighted_bce_option_is_the_public_prannet_code():
    """The public code's structure loss, as written there: ``reduce='none'`` is a legacy
    argument that means reduction='mean', so its BCE is one unweighted mean."""
    torch.manual_seed(0)
    pred = torch.randn(2, 1, 40, 40) * 3
    mask = (torch.rand(2, 1, 40, 40) > 0.6).float()
    weit = 1 + 5 * torch.abs(F.avg_pool2d(mask, kernel_size=31, stride=1, padding=15) - mask)
    wbce = F.binary_cross_entropy_with_logits(pred, mask, reduce='none')
    wbce = (weit * wbce).sum(dim=(2, 3)) / weit.sum(dim=(2, 3))
    prob = torch.sigmoid(pred)
    inter = ((prob * mask) * weit).sum(dim=(2, 3))
    union = ((prob + mask) * weit).sum(dim=(2, 3))
    wiou = 1 - (inter + 1) / (union - inter + 1)
    public = (wbce + wiou).mean()
    ours = StructureLoss(weighted_bce=False)(pred, mask[:, 0].long())
    assert ours.item() == pytest.approx(public.item(), rel=1e-6)
    # and differs from the paper's weighted BCE on the same input
    assert abs(StructureLoss()(pred, mask[:, 0].long()).item() - public.item()) > 1e-3


def np_attention_supervision(s_maps, t_maps, tau):
    total = 0.
    for s, t in zip(s_maps, t_maps):
        per_image = []
        for si, ti in zip(s[:, 0], t[:, 0]):
            w = si.shape[-1]
            a_s = np_softmax(si @ si.T / np.sqrt(w)) @ si
            a_t = np_softmax(ti @ ti.T / np.sqrt(w)) @ ti
            p_s = np_softmax(a_s.ravel() / tau)
            p_t = np_softmax(a_t.ravel() / tau)
            per_image.append((p_t * (np.log(p_t) - np.log(p_s))).sum())
        total += tau**2 * np.mean(per_image)
    return total


def test_attention_supervision_matches_numpy():
    rng = np.random.default_rng(1)
    s = [rng.normal(size=(2, 1, 6, 5)) for _ in range(2)]
    t = [rng.normal(size=(2, 1, 6, 5)) for _ in range(2)]
    loss = AttentionSupervisionLoss(tau=2.0)([torch.from_numpy(x) for x in s],
                                             [torch.from_numpy(x) for x in t])
    assert loss.item() == pytest.approx(np_attention_supervision(s, t, 2.0), rel=1e-9)


def test_attention_supervision_is_zero_for_equal_maps_and_teaches_the_student():
    t = torch.randn(2, 1, 8, 8)
    loss_fn = AttentionSupervisionLoss(tau=2.0, loss_weight=0.5)
    assert loss_fn([t.clone()], [t]).item() == pytest.approx(0., abs=1e-7)
    student = torch.randn(2, 1, 8, 8, requires_grad=True)
    teacher = t.clone().requires_grad_(True)
    loss = loss_fn([student], [teacher])
    assert loss.item() > 0
    loss.backward()
    # The public code's L_AT passes exactly zero gradient; this one must not.
    assert student.grad.abs().sum() > 0
    assert teacher.grad is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
@pytest.mark.parametrize('width', [32, 44, 56])
def test_attention_supervision_on_cuda_at_multi_scale_widths(width):
    """P1 / P2 widths of the 256 / 352 / 448 px training steps (stride 8). On an H200 the
    fused float32 attention kernel failed here ("cutlassF: no kernel found to launch")."""
    rng = np.random.default_rng(width)
    s, t = (rng.normal(size=(2, 1, width, width)) for _ in range(2))
    expected = np_attention_supervision([s], [t], 2.0)
    student = torch.tensor(s, dtype=torch.float32, device='cuda', requires_grad=True)
    teacher = torch.tensor(t, dtype=torch.float32, device='cuda')
    loss = AttentionSupervisionLoss(tau=2.0)([student], [teacher])
    loss.backward()
    assert loss.item() == pytest.approx(expected, rel=2e-3)  # TF32 matmuls allowed
    assert torch.isfinite(student.grad).all() and student.grad.abs().sum() > 0


def np_sgm(s_maps, t_maps, pool, mode, tau):
    def cube(maps):
        layers = []
        for m in maps:
            b, _, h, w = m.shape
            if pool is not None:  # exact average pooling (sizes divide evenly in the test)
                m = m.reshape(b, 1, pool, h // pool, pool, w // pool).mean(axis=(3, 5))
            layers.append(m + np.swapaxes(m, -1, -2))
        return np.concatenate(layers, axis=1)

    s, t = cube(s_maps), cube(t_maps)
    if mode == 'mse':
        return np.mean((s - t)**2)
    b, layers = s.shape[:2]
    kl = 0.
    for i in range(b):
        for k in range(layers):
            p_s = np_softmax(s[i, k].ravel() / tau)
            p_t = np_softmax(t[i, k].ravel() / tau)
            kl += (p_t * (np.log(p_t) - np.log(p_s))).sum()
    return tau**2 * kl / b


@pytest.mark.parametrize('mode,pool', [('kl', 4), ('kl', None), ('mse', None), ('mse', 2)])
def test_sgm_matches_numpy(mode, pool):
    rng = np.random.default_rng(2)
    s = [rng.normal(size=(2, 1, 8, 8)) for _ in range(2)]
    t = [rng.normal(size=(2, 1, 8, 8)) for _ in range(2)]
    loss = SGMLoss(pool_size=pool, mode=mode, tau=2.0)([torch.from_numpy(x) for x in s],
                                                       [torch.from_numpy(x) for x in t])
    assert loss.item() == pytest.approx(np_sgm(s, t, pool, mode, 2.0), rel=1e-9)


@pytest.mark.parametrize('mode', ['kl', 'mse'])
def test_sgm_is_symmetric_zero_at_equality_and_positive_otherwise(mode):
    loss_fn = SGMLoss(pool_size=4, mode=mode)
    s, t = torch.randn(2, 1, 16, 16), torch.randn(2, 1, 16, 16)
    assert loss_fn([s], [s.clone()]).item() == pytest.approx(0., abs=1e-7)
    value = loss_fn([s], [t])
    assert value.item() > 0
    assert loss_fn([s.transpose(-1, -2)], [t]).item() == pytest.approx(value.item(), rel=1e-6)


def test_sgm_handles_non_square_maps_and_features():
    loss_fn = SGMLoss(pool_size=4)
    s = torch.randn(1, 1, 12, 20, requires_grad=True)
    loss = loss_fn([s, torch.randn(1, 32, 6, 10)], [torch.randn(1, 1, 12, 20),
                                                     torch.randn(1, 32, 6, 10)])
    loss.backward()
    assert loss.item() > 0 and s.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='square'):
        SGMLoss(pool_size=None)([torch.randn(1, 1, 4, 6)], [torch.randn(1, 1, 4, 6)])
    with pytest.raises(ValueError, match="'kl' or 'mse'"):
        SGMLoss(mode='l1')


def np_log_sigmoid(x):
    return -np.logaddexp(0, -x)


@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_pixel_response_kd_matches_numpy_binary_kl(tau):
    from kdas.models.losses import PixelResponseKDLoss
    rng = np.random.default_rng(0)
    maps = [(rng.normal(0, 6, (2, 1, 5, 7)), rng.normal(0, 6, (2, 1, 5, 7))) for _ in range(2)]
    expected = 0.
    for s, t in maps:
        s, t = s / tau, t / tau
        p_t = 1 / (1 + np.exp(-t))
        kl = (p_t * (np_log_sigmoid(t) - np_log_sigmoid(s)) +
              (1 - p_t) * (np_log_sigmoid(-t) - np_log_sigmoid(-s)))
        expected += tau**2 * kl.mean()
    loss = PixelResponseKDLoss(tau=tau, loss_weight=2.)([torch.tensor(s) for s, _ in maps],
                                                        [torch.tensor(t) for _, t in maps])
    assert loss.item() == pytest.approx(2 * expected, rel=1e-9)
    same = PixelResponseKDLoss()([torch.tensor(maps[0][0])], [torch.tensor(maps[0][0])])
    assert abs(same.item()) < 1e-12


def test_channel_wise_divergence_matches_numpy():
    """Shu et al.: per channel, softmax over positions at temperature tau; tau^2 KL(T || S)
    summed over positions, averaged over channels and images."""
    from kdas.models.losses import ChannelWiseDivergenceLoss
    rng = np.random.default_rng(1)
    s, t = rng.normal(0, 2, (2, 3, 4, 6)), rng.normal(0, 2, (2, 3, 4, 6))
    tau = 4.
    total = 0.
    for b in range(2):
        for c in range(3):
            p_s = np_softmax(s[b, c].ravel() / tau)
            p_t = np_softmax(t[b, c].ravel() / tau)
            total += (p_t * (np.log(p_t) - np.log(p_s))).sum()
    expected = tau**2 * total / (2 * 3)
    student = torch.tensor(s, requires_grad=True)
    loss = ChannelWiseDivergenceLoss(tau=tau, loss_weight=3.)([student], [torch.tensor(t)])
    assert loss.item() == pytest.approx(3 * expected, rel=1e-9)
    loss.backward()
    assert student.grad.abs().sum() > 0
