"""The polyp evaluation protocol of PraNet / Polyp-PVT / UACANet / KDAS, computed fast.

The reference code binarises every 8-bit prediction at 256 thresholds
(``pred >= t`` for t in ``linspace(1, 0, 256)``) and scans the image for each. Here each
image is reduced once to two 256-bin histograms (prediction levels over mask pixels and
over background pixels); every threshold-swept column follows from cumulative counts.
The comparison ``level / 255 >= t`` is evaluated exactly as the reference evaluates it (in
float64), so the binning, and with it every column, is the reference's.

Per-image scores are kept as small records so that datasets can be merged, split and
averaged over their own images.
"""
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np
from scipy import ndimage

EPS = np.finfo(np.float64).eps
THRESHOLDS = np.linspace(1, 0, 256)
# PASSES[v, j]: does 8-bit level v pass threshold j? (v / 255 >= THRESHOLDS[j], in float64)
PASSES = (np.arange(256, dtype=np.float64)[:, None] / 255) >= THRESHOLDS[None, :]

# Column names of the reference evaluation code, in the order of its table.
REFERENCE_COLUMNS = ('meanDic', 'meanIoU', 'wFm', 'Sm', 'meanEm', 'mae', 'maxEm', 'maxDic',
                     'maxIoU', 'meanSen', 'maxSen', 'meanSpe', 'maxSpe')
FIXED_THRESHOLD_COLUMNS = ('Dice@0.5', 'IoU@0.5')
CURVES = ('Dic', 'IoU', 'Sen', 'Spe', 'Em')


def to_8bit_prediction(prob: np.ndarray) -> np.ndarray:
    """Min-max normalise a probability map and quantise it to 8 bits, as the reference
    pipeline does when it saves predictions as PNG (``cv2.imwrite(path, res * 255)``)."""
    prob = prob.astype(np.float64)
    prob = (prob - prob.min()) / (prob.max() - prob.min() + 1e-8)
    return np.clip(np.rint(prob * 255), 0, 255).astype(np.uint8)


def binarize_mask(mask: np.ndarray) -> np.ndarray:
    """Reference binarisation of an 8-bit mask: ``mask / 255 > 0.5``."""
    return (mask.astype(np.float64) / 255) > 0.5


@dataclass
class ImageScores:
    """What one image contributes: threshold curves and per-image scores."""
    curves: dict  # name -> (256,) float64 over THRESHOLDS
    mae: float
    sm: float
    wfm: float
    # Of the deployed mask; None when only the 8-bit map is known (published maps).
    dice_fixed: Optional[float] = None
    iou_fixed: Optional[float] = None

    def summary(self):
        out = dict(meanDic=float(self.curves['Dic'].mean()),
                   meanIoU=float(self.curves['IoU'].mean()), wFm=self.wfm, Sm=self.sm,
                   mae=self.mae)
        if self.dice_fixed is not None:
            out.update({'Dice@0.5': self.dice_fixed, 'IoU@0.5': self.iou_fixed})
        return out


def threshold_curves(pred: np.ndarray, gt: np.ndarray) -> dict:
    """Dice, IoU, sensitivity, specificity and E-measure at every reference threshold.

    Args:
        pred: uint8 prediction. gt: bool mask of the same shape.
    """
    n = pred.size
    fg_hist = np.bincount(pred[gt], minlength=256).astype(np.float64)
    bg_hist = np.bincount(pred[~gt], minlength=256).astype(np.float64)
    tp = fg_hist @ PASSES  # pixels predicted (>= t) inside the mask, per threshold
    fp = bg_hist @ PASSES
    num_obj = fg_hist.sum()
    num_pred = tp + fp
    fn = num_obj - tp
    tn = (n - num_pred) - fn
    hit = tp > 0
    # The reference scores every column 0 when prediction and mask do not overlap.
    with np.errstate(divide='ignore', invalid='ignore'):
        dice = np.where(hit, 2 * tp / (num_obj + num_pred), 0.)
        iou = np.where(hit, tp / (fn + num_pred), 0.)
        sen = np.where(hit, tp / num_obj, 0.)
        spe = np.where(hit, tn / (tn + fp), 0.)
    return dict(Dic=dice, IoU=iou, Sen=sen, Spe=spe,
                Em=_enhanced_measure(tp, fp, fn, tn, num_obj, num_pred, n))


def _enhanced_measure(tp, fp, fn, tn, num_obj, num_pred, n):
    """E-measure of a binary prediction from its confusion counts: each of the four
    (prediction, mask) combinations has one alignment value, so the pixel sum is a
    weighted sum of four terms."""
    if num_obj == 0:
        total = n - num_pred
    elif num_obj == n:
        total = num_pred
    else:
        mu_gt = num_obj / n
        mu_fm = num_pred / n

        def enhanced(fm, gt):
            a_fm, a_gt = fm - mu_fm, gt - mu_gt
            align = 2. * (a_gt * a_fm) / (a_gt * a_gt + a_fm * a_fm + EPS)
            return (align + 1)**2 / 4

        total = (tp * enhanced(1., 1.) + fp * enhanced(1., 0.) + fn * enhanced(0., 1.) +
                 tn * enhanced(0., 0.))
    return total / (n - 1 + EPS)


def s_measure(pred: np.ndarray, gt: np.ndarray, alpha: float = 0.5) -> float:
    """Structure measure (Fan et al. 2017) as the reference code computes it.

    Args:
        pred: float64 prediction in [0, 1]. gt: bool mask.
    """
    y = gt.mean()
    if y == 0:
        return float(1 - pred.mean())
    if y == 1:
        return float(pred.mean())
    q = alpha * _s_object(pred, gt) + (1 - alpha) * _s_region(pred, gt)
    return float(max(q, 0.))


def _object_score(values):
    if values.size == 0:
        return 0.
    x = values.mean()
    return 2. * x / (x**2 + 1. + values.std() + EPS)


def _s_object(pred, gt):
    u = gt.mean()
    return u * _object_score(pred[gt]) + (1 - u) * _object_score(1. - pred[~gt])


def _s_region(pred, gt):
    rows, cols = gt.shape
    total = gt.sum()
    # 0-based pixel indices, as in the reference (the Matlab original counts from 1).
    x = int(np.round((gt.sum(axis=0) * np.arange(cols)).sum() / total))
    y = int(np.round((gt.sum(axis=1) * np.arange(rows)).sum() / total))
    area = rows * cols
    w1 = x * y / area
    w2 = (cols - x) * y / area
    w3 = x * (rows - y) / area
    w4 = 1. - w1 - w2 - w3
    quads = ((slice(0, y), slice(0, x)), (slice(0, y), slice(x, cols)),
             (slice(y, rows), slice(0, x)), (slice(y, rows), slice(x, cols)))
    return sum(w * _ssim(pred[q], gt[q]) for w, q in zip((w1, w2, w3, w4), quads))


def _ssim(pred, gt):
    if pred.size == 0:
        # An empty quadrant has weight 0; the reference's NaN here would poison the mean.
        return 0.
    gt = gt.astype(np.float64)
    n = pred.size
    x, y = pred.mean(), gt.mean()
    dx, dy = pred - x, gt - y
    sigma_x2 = (dx * dx).sum() / (n - 1 + EPS)
    sigma_y2 = (dy * dy).sum() / (n - 1 + EPS)
    sigma_xy = (dx * dy).sum() / (n - 1 + EPS)
    alpha = 4 * x * y * sigma_xy
    beta = (x**2 + y**2) * (sigma_x2 + sigma_y2)
    if alpha != 0:
        return alpha / (beta + EPS)
    return 1. if beta == 0 else 0.


def _gaussian_kernel(size=7, sigma=5.):
    r = np.arange(size) - size // 2
    g = np.exp(-(r[:, None]**2 + r[None, :]**2) / (2. * sigma**2))
    return g / g.sum()


GAUSSIAN_7_5 = _gaussian_kernel()


def weighted_f_measure(pred: np.ndarray, gt: np.ndarray, beta2: float = 1.) -> float:
    """Weighted F-measure (Margolin et al. 2014) as the reference code computes it.

    Two shortcuts keep the numbers and drop most of the cost: the Euclidean distance to
    the mask comes from OpenCV's exact (``DIST_MASK_PRECISE``) transform, and the nearest-
    mask-pixel error propagation, which only reaches the mask through the 7 x 7 Gaussian,
    is computed in the mask's bounding box widened by the kernel radius.
    """
    if not gt.any():
        return 0.
    err = np.abs(pred - gt)
    dist = cv2.distanceTransform((~gt).astype(np.uint8), cv2.DIST_L2,
                                 cv2.DIST_MASK_PRECISE).astype(np.float64)
    radius = GAUSSIAN_7_5.shape[0] // 2
    rows, cols = np.nonzero(gt.any(axis=1))[0], np.nonzero(gt.any(axis=0))[0]
    box = (slice(max(rows[0] - radius, 0), rows[-1] + radius + 1),
           slice(max(cols[0] - radius, 0), cols[-1] + radius + 1))
    gt_box, err_box = gt[box], err[box]
    # Outside the mask, each pixel takes the error of its nearest mask pixel.
    idx = ndimage.distance_transform_edt(~gt_box, return_distances=False, return_indices=True)
    err_a = ndimage.correlate(err_box[idx[0], idx[1]], GAUSSIAN_7_5, mode='constant', cval=0.)
    min_e = err.copy()
    min_e[box] = np.where(gt_box & (err_a < err_box), err_a, err_box)
    weight = np.where(gt, 1., 2. - np.exp(np.log(0.5) / 5. * dist))
    ew = min_e * weight
    tpw = gt.sum() - ew[gt].sum()
    fpw = ew[~gt].sum()
    recall = 1 - ew[gt].mean()
    precision = tpw / (tpw + fpw + EPS)
    return float((1 + beta2) * recall * precision / (recall + beta2 * precision + EPS))


def weighted_f_measure_full(pred: np.ndarray, gt: np.ndarray, beta2: float = 1.) -> float:
    """The same, computed over the whole image as the reference does (for checking)."""
    if not gt.any():
        return 0.
    err = np.abs(pred - gt)
    dist, idx = ndimage.distance_transform_edt(~gt, return_indices=True)
    err_a = ndimage.correlate(err[idx[0], idx[1]], GAUSSIAN_7_5, mode='constant', cval=0.)
    min_e = np.where(gt & (err_a < err), err_a, err)
    ew = min_e * np.where(gt, 1., 2. - np.exp(np.log(0.5) / 5. * dist))
    tpw = gt.sum() - ew[gt].sum()
    precision = tpw / (tpw + ew[~gt].sum() + EPS)
    recall = 1 - ew[gt].mean()
    return float((1 + beta2) * recall * precision / (recall + beta2 * precision + EPS))


def mask_overlap(mask: np.ndarray, gt: np.ndarray):
    """Dice and IoU of one binary mask; an empty mask on an empty ground truth scores 1."""
    inter = np.count_nonzero(mask & gt)
    total = np.count_nonzero(mask) + np.count_nonzero(gt)
    if not total:
        return 1., 1.
    return 2 * inter / total, inter / (total - inter)


def dice(pred: np.ndarray, gt: np.ndarray) -> float:
    """The Dice of a binary mask, as the metric's Dice@0.5 computes it."""
    return float(mask_overlap(pred, gt)[0])


def score_image(pred: np.ndarray, gt: np.ndarray,
                mask: Optional[np.ndarray] = None) -> ImageScores:
    """All per-image quantities of the protocol.

    Args:
        pred (np.ndarray): uint8 prediction (H x W), the min-max normalised soft map.
        gt (np.ndarray): bool mask (H x W).
        mask (np.ndarray, optional): the deployed binary mask (H x W), i.e.
            ``sigmoid(logits) > 0.5``; it gives Dice@0.5 and IoU@0.5. The 8-bit map cannot
            stand in for it: min-max normalisation moves where 0.5 falls.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {pred.shape} and mask {gt.shape} differ in size')
    pred_f = pred.astype(np.float64) / 255
    dice = iou = None
    if mask is not None:
        if mask.shape != gt.shape:
            raise ValueError(f'deployed mask {mask.shape} and ground truth {gt.shape} differ '
                             'in size')
        dice, iou = (float(v) for v in mask_overlap(mask.astype(bool), gt))
    return ImageScores(curves=threshold_curves(pred, gt),
                       mae=float(np.abs(pred_f - gt).mean()), sm=s_measure(pred_f, gt),
                       wfm=weighted_f_measure(pred_f, gt), dice_fixed=dice, iou_fixed=iou)


def aggregate(scores) -> dict:
    """Dataset columns: per-image scores averaged over images; threshold curves averaged
    over images, then their mean and maximum over thresholds."""
    scores = list(scores)
    if not scores:
        raise ValueError('no images to aggregate')
    curves = {k: np.mean([s.curves[k] for s in scores], axis=0) for k in CURVES}
    result = dict(
        meanDic=curves['Dic'].mean(), meanIoU=curves['IoU'].mean(),
        wFm=np.mean([s.wfm for s in scores]), Sm=np.mean([s.sm for s in scores]),
        meanEm=curves['Em'].mean(), mae=np.mean([s.mae for s in scores]),
        maxEm=curves['Em'].max(), maxDic=curves['Dic'].max(), maxIoU=curves['IoU'].max(),
        meanSen=curves['Sen'].mean(), maxSen=curves['Sen'].max(),
        meanSpe=curves['Spe'].mean(), maxSpe=curves['Spe'].max())
    if all(s.dice_fixed is not None for s in scores):
        result['Dice@0.5'] = np.mean([s.dice_fixed for s in scores])
        result['IoU@0.5'] = np.mean([s.iou_fixed for s in scores])
    return {k: float(v) for k, v in result.items()}
