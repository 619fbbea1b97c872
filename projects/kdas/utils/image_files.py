"""Reading image files strictly: a truncated or undecodable file is an error naming it.

Depending on its build, OpenCV either refuses a JPEG cut short or decodes it without an
error (libjpeg fills the missing rows with grey and prints a warning), so completeness is
checked on the file's bytes: a JPEG must end with its end-of-image marker, a PNG with its
``IEND`` chunk.
"""
from typing import Optional, Tuple

import numpy as np

JPEG_START, JPEG_END = b'\xff\xd8', b'\xff\xd9'
PNG_SIGNATURE, PNG_END = b'\x89PNG\r\n\x1a\n', b'IEND\xaeB`\x82'
# Bytes read from a file's end by :func:`check_complete_file`: encoders and cameras may
# write padding or trailers after the end marker.
TAIL_BYTES = 1 << 16


class ImageFileError(OSError):
    """An image or mask file is missing, truncated or not an image; the message names it."""


def incompleteness(head: bytes, tail: bytes) -> Optional[str]:
    """Why an encoded image whose first bytes are ``head`` and last bytes ``tail`` is cut
    short, or None when it looks complete (or is of a format without an end marker)."""
    if not head:
        return 'the file is empty'
    # rfind: the marker is at the end, so the search stops after any trailer, not after
    # the whole file
    if head.startswith(JPEG_START) and tail.rfind(JPEG_END) < 0:
        return 'the JPEG data is truncated (no end-of-image marker)'
    if head.startswith(PNG_SIGNATURE) and tail.rfind(PNG_END) < 0:
        return 'the PNG data is truncated (no IEND chunk)'
    return None


def check_complete_file(path: str, what: str = 'image') -> None:
    """Raises :class:`ImageFileError` when ``path`` is missing, empty or truncated; reads
    only the file's first and last bytes."""
    try:
        with open(path, 'rb') as f:
            head = f.read(len(PNG_SIGNATURE))
            size = f.seek(0, 2)
            f.seek(max(size - TAIL_BYTES, 0))
            tail = f.read()
    except OSError as err:
        raise ImageFileError(f'cannot read {what} {path}: {err.strerror or err}') from err
    problem = incompleteness(head, tail)
    if problem:
        raise ImageFileError(f'{what} {path} is unusable: {problem}')


def decode_image(data: bytes, path: str, flag: str = 'color', what: str = 'image'
                 ) -> np.ndarray:
    """``mmcv.imfrombytes`` (OpenCV) of a complete file, else :class:`ImageFileError`."""
    import mmcv
    problem = incompleteness(data[:len(PNG_SIGNATURE)], data)
    if problem:
        raise ImageFileError(f'{what} {path} is unusable: {problem}')
    try:
        image = mmcv.imfrombytes(data, flag=flag, backend='cv2')
    except Exception as err:  # decoders raise many types; name the file either way
        raise ImageFileError(f'cannot decode {what} {path}: {err}') from err
    if image is None:
        raise ImageFileError(f'cannot decode {what} {path} (corrupt or not an image)')
    return image


def read_image(path: str, flag: str = 'color', what: str = 'image') -> np.ndarray:
    """A whole image file decoded strictly (see :func:`decode_image`)."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as err:
        raise ImageFileError(f'cannot read {what} {path}: {err.strerror or err}') from err
    return decode_image(data, path, flag, what)


# EXIF orientations that turn an image by 90 degrees (transposed, rotated 90 / 270).
TURNING_ORIENTATIONS = (5, 6, 7, 8)


def image_size(path: str, what: str = 'image', oriented: bool = False) -> Tuple[int, int]:
    """(height, width) from the file's header (Pillow reads no pixels). ``oriented``: as
    decoded with its EXIF orientation applied, which OpenCV does for colour images
    (``mmcv`` flag ``'color'``) but not for ``'unchanged'`` (masks)."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            width, height = img.size
            turned = oriented and img.getexif().get(0x0112) in TURNING_ORIENTATIONS
    except Exception as err:  # Pillow raises several types for a bad file
        raise ImageFileError(f'cannot read {what} {path}: {err}') from err
    return (width, height) if turned else (height, width)
