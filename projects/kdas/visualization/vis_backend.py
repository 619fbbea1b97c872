"""MMEngine's local visualisation backend with checked, atomic image writes."""
import os.path as osp

import cv2
import numpy as np
from mmengine.visualization.vis_backend import LocalVisBackend, force_init_env
from mmseg.registry import VISBACKENDS

from ..utils.output_files import write_image


@VISBACKENDS.register_module()
class CheckedLocalVisBackend(LocalVisBackend):
    """``LocalVisBackend`` (same folders, file names and pixels) whose ``add_image`` cannot
    fail silently: MMEngine's does not check ``cv2.imwrite``, so a full disk left overlays
    missing or cut while ``tools/test.py --show-dir`` reported success. Here a failed write
    raises an error naming the file, and a kill leaves no partial image."""

    @force_init_env
    def add_image(self, name: str, image: np.ndarray, step: int = 0, **kwargs) -> None:
        if image.dtype != np.uint8:
            raise TypeError(f'image {name} must be uint8 RGB, got {image.dtype}')
        write_image(osp.join(self._img_save_dir, f'{name}_{step}.png'),
                    cv2.cvtColor(image, cv2.COLOR_RGB2BGR), what='overlay')
