"""Convert polyp datasets as people download them into kdas's layout.

    python tools/dataset_converters/polyp.py RAW OUT [--skip-invalid] [--force]

RAW may hold any of: Kvasir-SEG (``images/`` + JPEG ``masks/``), CVC-ClinicDB and
CVC-ColonDB (``Original/`` + ``Ground Truth/`` TIFFs), ETIS-LaribPolypDB, CVC-300, PraNet's
``TrainDataset/{image,mask}`` and ``TestDataset/<set>/{images,masks}``, or this project's
own layout. Every folder with an image and a mask sub-folder is a dataset. Each becomes
``OUT/<name>/{images,masks}``: JPEG and PNG images are copied byte for byte, other images
(TIFF, BMP) are written as PNG; masks are binarised at half their range and written as
0/255 PNG. A ``splits/`` folder in RAW is copied.

Every pair is checked first (missing mask or image, unreadable, truncated or empty file,
image and mask of different sizes); all problems are reported together, and nothing is
written unless there are none or ``--skip-invalid`` is given. Existing output folders are
never overwritten without ``--force``.
"""
import argparse
import os
import os.path as osp
import shutil
import sys

import numpy as np
from PIL import Image

IMAGE_DIRS = ('images', 'image', 'original', 'imgs')
MASK_DIRS = ('masks', 'mask', 'ground truth', 'groundtruth', 'gt')
EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
KNOWN_NAMES = {
    'kvasir': 'Kvasir-SEG', 'kvasir-seg': 'Kvasir-SEG', 'cvc-clinicdb': 'CVC-ClinicDB',
    'clinicdb': 'CVC-ClinicDB', 'cvc-612': 'CVC-ClinicDB', 'cvc-colondb': 'CVC-ColonDB',
    'colondb': 'CVC-ColonDB', 'etis-laribpolypdb': 'ETIS-LaribPolypDB',
    'etis': 'ETIS-LaribPolypDB', 'cvc-300': 'CVC-300', 'endoscene': 'CVC-300',
    'traindataset': 'PraNet-TrainDataset'
}


def find_datasets(raw):
    """(name, image dir, mask dir) of every folder under RAW holding both sub-folders."""
    found = []
    for folder, dirs, _ in os.walk(raw, followlinks=True):
        lower = {d.lower(): d for d in dirs}
        img = next((lower[d] for d in IMAGE_DIRS if d in lower), None)
        mask = next((lower[d] for d in MASK_DIRS if d in lower), None)
        if img and mask:
            base = osp.basename(osp.normpath(folder))
            name = KNOWN_NAMES.get(base.lower(), base)
            found.append((name, osp.join(folder, img), osp.join(folder, mask)))
            dirs[:] = []  # a dataset's own sub-folders are not datasets
    return sorted(found)


def list_by_stem(folder):
    return {
        osp.splitext(f)[0]: osp.join(folder, f)
        for f in sorted(os.listdir(folder)) if osp.splitext(f)[1].lower() in EXTENSIONS
    }


def read(path):
    """Decoded image as an array; raises ValueError saying what is wrong with the file."""
    if osp.getsize(path) == 0:
        raise ValueError('empty file')
    try:
        with Image.open(path) as img:
            img.load()  # decodes fully: truncated files fail here
            return np.asarray(img)
    except (OSError, SyntaxError) as err:
        raise ValueError(f'unreadable ({err})') from None


def binarize(mask):
    if mask.ndim == 3:
        mask = mask[..., 0]
    high = 1 if mask.max() <= 1 else (np.iinfo(mask.dtype).max
                                      if np.issubdtype(mask.dtype, np.integer) else 255)
    return ((mask > high / 2) * 255).astype(np.uint8)


def check_dataset(name, img_dir, mask_dir):
    """Returns (valid pairs [(stem, img_path, mask array)], problems [str])."""
    images, masks = list_by_stem(img_dir), list_by_stem(mask_dir)
    problems, pairs = [], []
    for stem in sorted(set(images) - set(masks)):
        problems.append(f'{name}: {images[stem]} has no mask in {mask_dir}')
    for stem in sorted(set(masks) - set(images)):
        problems.append(f'{name}: {masks[stem]} has no image in {img_dir}')
    for stem in sorted(set(images) & set(masks)):
        try:
            image = read(images[stem])
        except ValueError as err:
            problems.append(f'{name}: {images[stem]}: {err}')
            continue
        try:
            mask = read(masks[stem])
        except ValueError as err:
            problems.append(f'{name}: {masks[stem]}: {err}')
            continue
        if image.shape[:2] != mask.shape[:2]:
            problems.append(f'{name}: {images[stem]} is {image.shape[1]}x{image.shape[0]} '
                            f'but its mask {masks[stem]} is {mask.shape[1]}x{mask.shape[0]}')
            continue
        pairs.append((stem, images[stem], binarize(mask)))
    return pairs, problems


def write_dataset(out_dir, pairs):
    os.makedirs(osp.join(out_dir, 'images'))
    os.makedirs(osp.join(out_dir, 'masks'))
    for stem, img_path, mask in pairs:
        ext = osp.splitext(img_path)[1].lower()
        if ext in ('.jpg', '.jpeg', '.png'):
            shutil.copyfile(img_path, osp.join(out_dir, 'images', stem + ext))
        else:
            with Image.open(img_path) as img:
                img.convert('RGB').save(osp.join(out_dir, 'images', stem + '.png'))
        Image.fromarray(mask).save(osp.join(out_dir, 'masks', stem + '.png'))


def main(argv=None):
    parser = argparse.ArgumentParser(description='Convert polyp datasets to kdas layout')
    parser.add_argument('raw', help='folder with the downloaded datasets')
    parser.add_argument('out', help='output root (e.g. data/polyp)')
    parser.add_argument('--skip-invalid', action='store_true',
                        help='convert the valid pairs and skip the rest (exit 0)')
    parser.add_argument('--force', action='store_true',
                        help='replace output dataset folders that already exist')
    args = parser.parse_args(argv)

    if not osp.isdir(args.raw):
        print(f'error: {args.raw} is not a folder', file=sys.stderr)
        return 2
    datasets = find_datasets(args.raw)
    if not datasets:
        print(f'error: no dataset (a folder with image and mask sub-folders) under {args.raw}',
              file=sys.stderr)
        return 2
    names = [d[0] for d in datasets]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        print(f'error: several raw folders map to {clashes}; convert them separately',
              file=sys.stderr)
        return 2
    existing = [osp.join(args.out, n) for n in names if osp.exists(osp.join(args.out, n))]
    if existing and not args.force:
        print(f'error: output exists (use --force to replace): {", ".join(existing)}',
              file=sys.stderr)
        return 2

    checked, all_problems = [], []
    for name, img_dir, mask_dir in datasets:
        pairs, problems = check_dataset(name, img_dir, mask_dir)
        checked.append((name, pairs))
        all_problems += problems
        print(f'{name}: {len(pairs)} valid pairs, {len(problems)} problems '
              f'({img_dir}, {mask_dir})')
    if all_problems:
        print(f'{len(all_problems)} problems:', file=sys.stderr)
        for problem in all_problems:
            print(f'  {problem}', file=sys.stderr)
        if not args.skip_invalid:
            print('nothing written; fix the files or pass --skip-invalid', file=sys.stderr)
            return 1
    for name, pairs in checked:
        target = osp.join(args.out, name)
        if osp.exists(target):
            shutil.rmtree(target)
        write_dataset(target, pairs)
    splits = osp.join(args.raw, 'splits')
    if osp.isdir(splits):
        shutil.copytree(splits, osp.join(args.out, 'splits'), dirs_exist_ok=True)
    print(f'wrote {", ".join(n for n, _ in checked)} to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
