"""MMSegmentation visualizer that draws polyp predictions with :func:`draw_overlay`."""
from typing import Optional

import mmcv
import numpy as np
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from ..evaluation.protocol import dice
from ..utils.output_files import write_image
from .overlay import draw_overlay


@VISUALIZERS.register_module()
class PolypVisualizer(SegLocalVisualizer):
    """``SegLocalVisualizer`` with one panel per image: the image at full brightness, the
    deployed mask (``pred_sem_seg``) against the ground truth, a legend and the image's Dice
    (MMSegmentation's own drawing dims the image under a palette and shows ground truth and
    prediction side by side). Used by ``tools/test.py --show-dir``."""

    def add_datasample(self, name: str, image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None, draw_gt: bool = True,
                       draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       out_file: Optional[str] = None, step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        if data_sample is None or 'pred_sem_seg' not in data_sample or not draw_pred:
            return super().add_datasample(name, image, data_sample, draw_gt, draw_pred, show,
                                          wait_time, out_file, step, with_labels)
        pred = data_sample.pred_sem_seg.data[0].cpu().numpy().astype(bool)
        gt = None
        caption = ''
        if draw_gt and 'gt_sem_seg' in data_sample:
            gt = data_sample.gt_sem_seg.data[0].cpu().numpy() == 1
            caption = f'Dice {dice(pred, gt):.3f}'
        # The hook hands RGB; OpenCV draws BGR.
        drawn = draw_overlay(mmcv.rgb2bgr(image), pred, gt, caption=caption)
        drawn = mmcv.bgr2rgb(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            write_image(out_file, mmcv.rgb2bgr(drawn), what='overlay')
        else:
            self.add_image(name, drawn, step)
