"""The small real-data sample shipped in ``data/polyp_sample``, made from a full data root.

The first N stems of each split (sorted, so that the sample is reproducible), images shrunk
so that their longer side is at most ``max_side`` (area interpolation, JPEG quality 90) and
masks alike (nearest neighbour, 0/255 PNG), and split files in the same layout. Every write
is checked and atomic, and the sample is never written into the root it is made from.
"""
import os.path as osp

import cv2

from ..utils.image_files import read_image
from ..utils.output_files import OutputError, inside, write_image, write_text
from .polyp import pair_folder

SETS = (('Kvasir-SEG', 'kvasir'), ('CVC-ClinicDB', 'clinicdb'))


def shrink(image, max_side: int, interpolation: int):
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale == 1.0:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=interpolation)


def make_sample(src: str, dst: str, train: int = 24, test: int = 8,
                max_side: int = 320) -> int:
    """Writes the sample of ``src`` (a data root in kdas's layout) to ``dst``; returns the
    number of pairs written. Bad input (a missing split file or pair, an unreadable image)
    raises an error naming the file before anything of that split is written."""
    if inside(dst, src) or inside(src, dst):
        raise OutputError(f'{dst} and {src} overlap: the sample would be written over the data '
                          'it is made from; choose another folder')
    written = 0
    for folder, prefix in SETS:
        for split, count in (('train', train), ('test', test)):
            split_file = osp.join(src, 'splits', f'{prefix}_{split}.txt')
            pairs = {osp.splitext(osp.basename(p['img_path']))[0]: p
                     for p in pair_folder(osp.join(src, folder), split_file, folder)}
            stems = sorted(pairs)[:count]
            for stem in stems:
                image = read_image(pairs[stem]['img_path'])
                mask = read_image(pairs[stem]['seg_map_path'], 'grayscale', 'mask')
                image = shrink(image, max_side, cv2.INTER_AREA)
                mask = shrink(mask, max_side, cv2.INTER_NEAREST)
                mask = ((mask > 127) * 255).astype('uint8')
                write_image(osp.join(dst, folder, 'images', f'{stem}.jpg'), image,
                            [cv2.IMWRITE_JPEG_QUALITY, 90])
                write_image(osp.join(dst, folder, 'masks', f'{stem}.png'), mask, what='mask')
            write_text(osp.join(dst, 'splits', f'{prefix}_{split}.txt'),
                       '\n'.join(stems) + '\n', what='split file')
            written += len(stems)
    return written
