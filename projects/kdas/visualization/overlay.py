"""One drawing of a prediction against its ground truth, for every tool that shows one.

The endoscopy image stays at full brightness. With a ground truth, each pixel class gets a
semi-transparent fill: true positives green, missed polyp (false negatives) red, false
positives blue; the ground truth's outline is white and the prediction's yellow. Without
a ground truth the predicted region is filled green with a yellow outline. A legend strip
under the image names the colours (and the Dice, when given).
"""
from typing import Optional

import cv2
import numpy as np

# BGR, as OpenCV draws.
COLOURS = dict(tp=(0, 200, 0), fn=(0, 0, 230), fp=(230, 80, 0), gt_outline=(255, 255, 255),
               pred_outline=(0, 230, 255))
FILL_ALPHA = 0.4


def _outline(canvas, mask, colour, thickness):
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(canvas, contours, -1, colour, thickness)


def _fill(canvas, image, region, colour):
    canvas[region] = ((1 - FILL_ALPHA) * image[region] +
                      FILL_ALPHA * np.array(colour, np.float64)).astype(np.uint8)


def legend_items(with_gt: bool):
    if with_gt:
        return [('polyp found', COLOURS['tp']), ('missed', COLOURS['fn']),
                ('false positive', COLOURS['fp']), ('truth outline', COLOURS['gt_outline']),
                ('prediction outline', COLOURS['pred_outline'])]
    return [('predicted polyp', COLOURS['tp']), ('outline', COLOURS['pred_outline'])]


def draw_legend(width: int, with_gt: bool, caption: str = '') -> np.ndarray:
    """A dark strip with a swatch and a name per colour, wrapped to ``width``."""
    scale = max(0.35, min(0.6, width / 1100))
    thick = 1
    (_, text_h), _ = cv2.getTextSize('Ag', cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    line_h = text_h + 10
    items = legend_items(with_gt) + ([(caption, None)] if caption else [])
    lines, x = [[]], 6
    for label, colour in items:
        (w, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        need = w + (text_h + 6 if colour is not None else 0) + 12
        if x + need > width and lines[-1]:
            lines.append([])
            x = 6
        lines[-1].append((x, label, colour))
        x += need
    strip = np.full((line_h * len(lines) + 4, width, 3), 32, np.uint8)
    for row, entries in enumerate(lines):
        y = row * line_h + line_h - 4
        for x, label, colour in entries:
            if colour is not None:
                cv2.rectangle(strip, (x, y - text_h), (x + text_h, y), colour, -1)
                x += text_h + 6
            cv2.putText(strip, label, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale,
                        (235, 235, 235), thick, cv2.LINE_AA)
    return strip


def draw_overlay(image: np.ndarray, pred: np.ndarray, gt: Optional[np.ndarray] = None,
                 caption: str = '', legend: bool = True) -> np.ndarray:
    """The image (BGR, H x W x 3) with the prediction (H x W bool) drawn over it, against
    the ground truth (H x W bool) when given; a legend strip is appended below."""
    if pred.shape != image.shape[:2] or (gt is not None and gt.shape != pred.shape):
        raise ValueError(f'image {image.shape[:2]}, prediction {pred.shape} and ground truth '
                         f'{None if gt is None else gt.shape} must have one size')
    pred = pred.astype(bool)
    base = image.astype(np.float64)
    canvas = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 250))
    if gt is None:
        _fill(canvas, base, pred, COLOURS['tp'])
    else:
        gt = gt.astype(bool)
        for region, key in ((pred & gt, 'tp'), (gt & ~pred, 'fn'), (pred & ~gt, 'fp')):
            _fill(canvas, base, region, COLOURS[key])
        _outline(canvas, gt, COLOURS['gt_outline'], thickness)
    _outline(canvas, pred, COLOURS['pred_outline'], thickness)
    if not legend:
        return canvas
    return np.concatenate([canvas, draw_legend(image.shape[1], gt is not None, caption)])
