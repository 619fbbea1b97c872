import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS


def binarize_polyp_mask(mask: np.ndarray) -> np.ndarray:
    """0/1 label from a mask saved as 0/1, 0/255 (possibly JPEG-noisy) or 16-bit.

    The threshold is half the mask's value range: 0.5 for 0/1 masks, half the integer
    type's maximum otherwise. Multi-channel masks use their first channel.
    """
    if mask.ndim == 3:
        mask = mask[..., 0]
    if mask.max() <= 1:
        high = 1
    elif np.issubdtype(mask.dtype, np.integer):
        high = np.iinfo(mask.dtype).max
    else:
        high = 255
    return (mask > high / 2).astype(np.uint8)


@TRANSFORMS.register_module()
class LoadPolypAnnotation(BaseTransform):
    """Loads ``seg_map_path`` as a binary 0/1 ``gt_seg_map`` (see
    :func:`binarize_polyp_mask`). An unreadable mask raises an error naming the file.
    Without a ``seg_map_path`` (inference, e.g. ``mmseg.apis.inference_model``) it does
    nothing, so test pipelines serve inference unchanged."""

    def __init__(self, backend_args=None):
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results.get('seg_map_path')
        if path is None:
            return results
        try:
            mask = mmcv.imfrombytes(fileio.get(path, backend_args=self.backend_args),
                                    flag='unchanged', backend='cv2')
        except Exception as err:  # decoders raise many types; report the file either way
            raise OSError(f'cannot read mask {path}: {err}') from err
        if mask is None:
            raise OSError(f'cannot decode mask {path} (corrupt or not an image)')
        results['gt_seg_map'] = binarize_polyp_mask(mask)
        results['seg_fields'].append('gt_seg_map')
        return results

