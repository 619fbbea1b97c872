"""Reading polyp images and masks: the masks' binarisation, and loading transforms that name
a bad file."""
import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmengine import fileio
from mmseg.registry import TRANSFORMS

from ..utils.image_files import ImageFileError, decode_image, read_image

# Index of the red channel of a 3- or 4-channel mask, the one that is binarised: arrays
# decoded by OpenCV (and so by mmcv's cv2 backend) are BGR / BGRA, those decoded by
# Pillow (the dataset converter) RGB / RGBA.
RED = dict(BGR=2, RGB=0)


def binarize_polyp_mask(mask: np.ndarray, channel_order: str = 'BGR') -> np.ndarray:
    """0/1 label from a mask saved as 0/1, 0/255 (possibly JPEG-noisy) or 16-bit.

    The threshold is half the mask's value range: 0.5 for 0/1 masks, half the integer
    type's maximum otherwise.

    Colour masks are expected in OpenCV's channel order by default, as
    ``cv2.imread(path, cv2.IMREAD_UNCHANGED)`` and mmcv (backend ``cv2``, flag
    ``'unchanged'``) give them: a 3- or 4-channel array is BGR or BGRA, and its red
    channel (index 2) is binarised, so a polyp drawn in red, white or grey is the polyp.
    ``channel_order='RGB'`` takes arrays as Pillow decodes them (RGB or RGBA, red first),
    as the dataset converter does. A 2-channel array (grey + alpha) uses its grey channel.
    """
    if mask.ndim == 3:
        mask = mask[..., RED[channel_order]] if mask.shape[2] >= 3 else mask[..., 0]
    if mask.max() <= 1:
        high = 1
    elif np.issubdtype(mask.dtype, np.integer):
        high = np.iinfo(mask.dtype).max
    else:
        high = 255
    return (mask > high / 2).astype(np.uint8)


def size_text(shape) -> str:
    """``(height, width, ...)`` as ``WIDTHxHEIGHT``, the way image sizes are usually said."""
    return f'{shape[1]}x{shape[0]}'


def read_polyp_mask(path: str, shape) -> np.ndarray:
    """A ground-truth mask file as a bool H x W array (:func:`binarize_polyp_mask`); an error
    naming it when it cannot be read or its size is not ``shape`` (H, W), its image's."""
    mask = read_image(path, flag='unchanged', what='ground-truth mask')
    if mask.shape[:2] != tuple(shape):
        raise ValueError(f'ground-truth mask {path} is {size_text(mask.shape)}, its image '
                         f'{size_text(shape)}')
    return binarize_polyp_mask(mask).astype(bool)


@TRANSFORMS.register_module()
class LoadPolypImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments, same pixels) that refuses a bad file.

    mmcv's loader fails on an undecodable file with a bare ``AssertionError``, and
    depending on the OpenCV build decodes a truncated JPEG with its missing rows grey;
    this one raises :class:`~kdas.utils.image_files.ImageFileError` naming the file in
    both cases (decoding with :func:`~kdas.utils.image_files.decode_image`, which checks
    the file's end marker). With
    ``ignore_empty=True`` such a file gives ``None``, as in mmcv.

    Only the ``cv2`` decoding backend is supported: it is mmcv's default, and the one
    the strict decoder uses.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.imdecode_backend != 'cv2':
            raise ValueError(f'LoadPolypImageFromFile decodes with OpenCV; '
                             f'imdecode_backend={self.imdecode_backend!r} is not supported')

    def _read_bytes(self, filename: str) -> bytes:
        # As mmcv's loader reads them (including its deprecated file_client_args).
        if self.file_client_args is not None:
            client = fileio.FileClient.infer_client(self.file_client_args, filename)
            return client.get(filename)
        return fileio.get(filename, backend_args=self.backend_args)

    def transform(self, results: dict):
        filename = results['img_path']
        try:
            try:
                data = self._read_bytes(filename)
            except Exception as err:  # backends raise many types; name the file either way
                raise ImageFileError(f'cannot read image {filename}: {err}') from err
            img = decode_image(data, filename, flag=self.color_type, what='image')
        except ImageFileError:
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadPolypAnnotation(BaseTransform):
    """Loads ``seg_map_path`` as a binary 0/1 ``gt_seg_map`` (see
    :func:`binarize_polyp_mask`).

    An unreadable or truncated mask raises
    :class:`~kdas.utils.image_files.ImageFileError` naming the file. A mask whose size is
    not its image's (``ori_shape``, set by the image loader and kept by ``Resize``)
    raises ``ValueError`` naming both files and both sizes: the metric would otherwise
    compare it with a prediction resized to the wrong shape, and training would stretch
    it. Without a ``seg_map_path`` (inference, e.g. ``mmseg.apis.inference_model``) it
    does nothing, so test pipelines serve inference unchanged."""

    def __init__(self, backend_args=None):
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results.get('seg_map_path')
        if path is None:
            return results
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except Exception as err:  # backends raise many types; name the file either way
            raise ImageFileError(f'cannot read mask {path}: {err}') from err
        mask = decode_image(data, path, flag='unchanged', what='mask')
        image_shape = results.get('ori_shape')
        if image_shape is not None and tuple(mask.shape[:2]) != tuple(image_shape[:2]):
            raise ValueError(
                f'mask {path} is {size_text(mask.shape)} but its image '
                f'{results.get("img_path", "(unknown)")} is {size_text(image_shape)}')
        results['gt_seg_map'] = binarize_polyp_mask(mask)
        results['seg_fields'].append('gt_seg_map')
        return results
