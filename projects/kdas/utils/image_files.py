"""Image files: which files of a folder are images, and reading them strictly (a truncated
or undecodable file is an error naming it).

Depending on its build, OpenCV either refuses a JPEG cut short or decodes it without an
error (libjpeg fills the missing rows with grey and prints a warning), so completeness is
checked on the file's bytes: a JPEG must end with its end-of-image marker, a PNG with its
``IEND`` chunk.
"""
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

# What counts as an image (or mask) file in a folder, by extension in any case.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')

JPEG_START, JPEG_END = b'\xff\xd8', b'\xff\xd9'
PNG_SIGNATURE, PNG_END = b'\x89PNG\r\n\x1a\n', b'IEND\xaeB`\x82'
# Bytes read from a file's end by :func:`check_complete_file`: encoders and cameras may
# write padding or trailers after the end marker.
TAIL_BYTES = 1 << 16


class ImageFileError(OSError):
    """An image or mask file is missing, truncated or not an image; the message names it."""


def image_file_names(folder: str) -> List[str]:
    """Sorted names of the files (not sub-folders) in ``folder`` with an image extension.
    A missing folder raises ``FileNotFoundError`` (``NotADirectoryError`` for a file), as
    :func:`os.scandir` does; callers that accept one check first."""
    with os.scandir(folder) as entries:
        return sorted(entry.name for entry in entries if entry.is_file() and
                      osp.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS)


def group_by_stem(paths: Iterable[str]) -> Dict[str, List[str]]:
    """stem -> the paths of that stem, in the order given."""
    groups = {}
    for path in paths:
        groups.setdefault(osp.splitext(osp.basename(path))[0], []).append(path)
    return groups


def shared_stem_problem(where: str, stem: str, paths: Sequence[str]) -> str:
    return (f'{where}: {" and ".join(paths)} share the stem {stem!r}, so they cannot be told '
            'apart by it; rename one')


def by_stem(paths: Iterable[str], where: str) -> Dict[str, str]:
    """stem -> path; two paths of one stem (``a.jpg``, ``a.png``) are an error naming
    both, since whatever pairs or names files by stem could not tell them apart."""
    groups = group_by_stem(paths)
    for stem, group in groups.items():
        if len(group) > 1:
            raise ValueError(shared_stem_problem(where, stem, group))
    return {stem: group[0] for stem, group in groups.items()}


def index_by_stem(folder: str, what: str) -> dict:
    """stem -> file name of every image-like file in ``folder`` (see :func:`by_stem`)."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{what} folder {folder} does not exist')
    return by_stem(image_file_names(folder), f'{what} folder {folder}')


def image_inputs(path: str) -> List[str]:
    """The images a command-line input names: the file ``path``, or the image files of the
    folder ``path`` (see :func:`image_file_names`), as paths. ``FileNotFoundError`` when it
    is neither, or a folder without images."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path} is neither an image nor a folder')
    paths = [osp.join(path, name) for name in image_file_names(path)]
    if not paths:
        raise FileNotFoundError(f'no images in {path}')
    return paths


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
