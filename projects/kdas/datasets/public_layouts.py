"""Polyp datasets as people download them, converted into kdas's layout (the body of
``tools/dataset_converters/polyp.py``, whose docstring says what it accepts and writes).

Sources are folders with an image and a mask sub-folder; each is checked pair by pair
first, all problems are reported together, and nothing is written while there are any
(unless ``skip_invalid``). Images are listed, paired by stem and masks binarised as the
data loader does it (:mod:`kdas.datasets.polyp`, :mod:`kdas.datasets.transforms`), so
what the converter writes is what training reads.
"""
import os
import os.path as osp
import shutil
import sys
import tempfile
from collections import OrderedDict

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..utils.image_files import group_by_stem, image_file_names, shared_stem_problem
from ..utils.output_files import (TEMP_PREFIX, OutputError, describe_os_error, inside, same_file,
                                  write_bytes, write_text)
from .polyp import (SPLIT_DIR, TEST_SUBSETS, TRAIN_SUBSETS, read_split,
                    read_subset)
from .transforms import binarize_polyp_mask

IMAGE_DIRS = ('images', 'image', 'original', 'imgs')
MASK_DIRS = ('masks', 'mask', 'ground truth', 'groundtruth', 'gt')
# Folders that only hold one file format of a dataset (Kaggle's CVC-ClinicDB): the dataset
# is named by their parent, and PNG is preferred over TIFF.
FORMAT_DIRS = ('png', 'tif', 'tiff')
PRANET_TRAIN = 'PraNet TrainDataset'
KNOWN_NAMES = {
    'kvasir': 'Kvasir-SEG', 'kvasir-seg': 'Kvasir-SEG', 'cvc-clinicdb': 'CVC-ClinicDB',
    'clinicdb': 'CVC-ClinicDB', 'cvc-612': 'CVC-ClinicDB', 'cvc-colondb': 'CVC-ColonDB',
    'colondb': 'CVC-ColonDB', 'etis-laribpolypdb': 'ETIS-LaribPolypDB',
    'etis': 'ETIS-LaribPolypDB', 'cvc-300': 'CVC-300', 'endoscene': 'CVC-300',
    'traindataset': PRANET_TRAIN
}
# The two datasets with a standard split: folder -> {split file name: stems}.
SPLIT_FILES = OrderedDict(
    (folder, [osp.basename(s['split']) for s in (TRAIN_SUBSETS + TEST_SUBSETS)
              if s['folder'] == folder]) for folder in ('Kvasir-SEG', 'CVC-ClinicDB'))
CONFIGS = {
    'train': 'configs/polyp_pvt/, configs/kdas/, configs/budget/ (PolypTrainDataset)',
    'test': 'tools/test.py with any of those configs (PolypTestDataset)',
}


def standard_splits(split_dir=SPLIT_DIR):
    """{dataset folder: {split file name: [stems]}} of the PraNet split, from
    ``split_dir`` where it has the file, else as shipped with kdas."""
    return {folder: {name: read_split(osp.join(split_dir, name) if osp.isfile(
        osp.join(split_dir, name)) else osp.join(SPLIT_DIR, name)) for name in names}
            for folder, names in SPLIT_FILES.items()}


def paths_by_stem(folder, what):
    """(stem -> path of the images in ``folder``, {ambiguous stem: problem}): two files of
    one stem (``a.jpg``, ``a.png``) cannot be told apart, so that stem is left out and named
    as a problem; the folder's other files are kept."""
    groups = group_by_stem(osp.join(folder, name) for name in image_file_names(folder))
    ambiguous = {stem: shared_stem_problem(f'{what} folder {folder}', stem, paths)
                 for stem, paths in sorted(groups.items()) if len(paths) > 1}
    return {stem: paths[0] for stem, paths in groups.items() if len(paths) == 1}, ambiguous


def dataset_name(folder, stems, splits):
    """The dataset a source folder holds: by its name (or its parent's, for a format
    folder), else by its stems covering a standard dataset's whole split."""
    base = osp.basename(osp.normpath(folder))
    if base.lower() in FORMAT_DIRS:
        base = osp.basename(osp.dirname(osp.normpath(folder)))
    if base.lower() in KNOWN_NAMES:
        return KNOWN_NAMES[base.lower()]
    for name, files in splits.items():
        if set().union(*map(set, files.values())) <= stems:
            return name
    return base


def find_sources(raw, splits):
    """[(name, image dir, mask dir)] of every folder under RAW holding both sub-folders;
    notes [str] about sources left out (a TIFF copy beside a PNG one)."""
    found = []
    for folder, dirs, _ in os.walk(raw, followlinks=True):
        lower = {d.lower(): d for d in dirs}
        img = next((lower[d] for d in IMAGE_DIRS if d in lower), None)
        mask = next((lower[d] for d in MASK_DIRS if d in lower), None)
        if img and mask:
            stems = {osp.splitext(n)[0] for n in image_file_names(osp.join(folder, img))}
            found.append((dataset_name(folder, stems, splits), osp.join(folder, img),
                          osp.join(folder, mask)))
            dirs[:] = []  # a dataset's own sub-folders are not datasets
    notes, kept = [], []
    for source in sorted(found):
        name, img_dir = source[0], source[1]
        parent = osp.dirname(osp.dirname(img_dir))
        fmt = osp.basename(osp.dirname(img_dir)).lower()
        png_sibling = any(n == name and osp.dirname(osp.dirname(i)) == parent and
                          osp.basename(osp.dirname(i)).lower() == 'png' for n, i, _ in found)
        if fmt in ('tif', 'tiff') and png_sibling:
            notes.append(f'{name}: using the PNG copy, not {osp.dirname(img_dir)}')
            continue
        kept.append(source)
    return kept, notes


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


def output_mask(mask):
    """The 0/255 mask written for a mask decoded by Pillow (RGB): binarised as the data
    loader binarises the file (:func:`~kdas.datasets.transforms.binarize_polyp_mask`)."""
    return binarize_polyp_mask(mask, channel_order='RGB') * np.uint8(255)


def check_source(name, img_dir, mask_dir):
    """Returns (valid pairs [(stem, img_path, mask array)], problems [str])."""
    (images, ambiguous_images), (masks, ambiguous_masks) = (paths_by_stem(img_dir, 'image'),
                                                            paths_by_stem(mask_dir, 'mask'))
    ambiguous = {**ambiguous_images, **ambiguous_masks}
    problems = [f'{name}: {p}' for p in [*ambiguous_images.values(), *ambiguous_masks.values()]]
    pairs = []
    images = {k: v for k, v in images.items() if k not in ambiguous}
    masks = {k: v for k, v in masks.items() if k not in ambiguous}
    for stem in sorted(set(images) - set(masks)):
        problems.append(f'{name}: {images[stem]} has no mask in {mask_dir}')
    for stem in sorted(set(masks) - set(images)):
        problems.append(f'{name}: {masks[stem]} has no image in {img_dir}')
    for stem in tqdm(sorted(set(images) & set(masks)), desc=f'checking {name}', unit='pair',
                     leave=False, file=sys.stdout, disable=None):
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
        pairs.append((stem, images[stem], output_mask(mask)))
    return pairs, problems


def assign_pranet_train(pairs, splits):
    """PraNet's merged training set, back to its datasets by the standard split's stems."""
    owners = {stem: folder for folder, files in splits.items() for name, stems in files.items()
              if 'train' in name for stem in stems}
    by_dataset, problems = OrderedDict(), []
    for pair in pairs:
        folder = owners.get(pair[0])
        if folder is None:
            problems.append(f'{PRANET_TRAIN}: {pair[1]} is in neither the Kvasir-SEG nor the '
                            'CVC-ClinicDB training split')
        else:
            by_dataset.setdefault(folder, []).append(pair)
    return by_dataset, problems


def merge_sources(checked, splits):
    """{dataset: pairs} from [(name, pairs)], PraNet's training set split up; a stem given
    by two sources of one dataset is a problem."""
    merged, problems = OrderedDict(), []
    for name, pairs in checked:
        if name == PRANET_TRAIN:
            parts, found = assign_pranet_train(pairs, splits)
            problems += found
        else:
            parts = {name: pairs}
        for target, part in parts.items():
            have = {p[0]: p[1] for p in merged.get(target, [])}
            for pair in part:
                if pair[0] in have:
                    problems.append(f'{target}: {pair[1]} and {have[pair[0]]} share the stem '
                                    f'{pair[0]!r}; keep one download of each image')
                else:
                    merged.setdefault(target, []).append(pair)
    return OrderedDict(sorted(merged.items())), problems


def split_coverage(merged, splits):
    """{(folder, split file): (stems present, stems of the standard split)}."""
    coverage = {}
    for folder, files in splits.items():
        if folder not in merged:
            continue
        have = {p[0] for p in merged[folder]}
        for name, stems in files.items():
            coverage[(folder, name)] = ([s for s in stems if s in have], stems)
    return coverage


def write_dataset(out_dir, pairs):
    """Writes ``pairs`` as ``out_dir/{images,masks}``, replacing a folder that is there only
    once every file is written: a kill or a full disk leaves the previous dataset whole
    (and a hidden temporary folder beside it)."""
    parent, name = osp.split(osp.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'{TEMP_PREFIX}{name}.', dir=parent)
    try:
        os.makedirs(osp.join(tmp, 'images'))
        os.makedirs(osp.join(tmp, 'masks'))
        for stem, img_path, mask in tqdm(pairs, desc=f'writing {name}', unit='pair',
                                         leave=False, file=sys.stdout, disable=None):
            ext = osp.splitext(img_path)[1].lower()
            if ext in ('.jpg', '.jpeg', '.png'):
                shutil.copyfile(img_path, osp.join(tmp, 'images', stem + ext))
            else:
                with Image.open(img_path) as img:
                    img.convert('RGB').save(osp.join(tmp, 'images', stem + '.png'))
            Image.fromarray(mask).save(osp.join(tmp, 'masks', stem + '.png'))
        if osp.exists(out_dir):
            old = tempfile.mkdtemp(prefix=f'{TEMP_PREFIX}{name}.old.', dir=parent)
            os.replace(out_dir, osp.join(old, name))
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sources_in_targets(sources, out, names):
    """Problems of source folders that lie in an output dataset folder: replacing it would
    delete what it is copied from."""
    problems = []
    for _, img_dir, mask_dir in sources:
        for name in names:
            target = osp.join(out, name)
            for folder in (img_dir, mask_dir):
                if inside(folder, target):
                    problems.append(f'source folder {folder} lies in {target}, which the '
                                    'conversion replaces; convert into another output folder')
    return problems


def report(out, merged):
    """What the output root now holds, and who reads it."""
    lines = []
    for role, subsets in (('train', TRAIN_SUBSETS), ('test', TEST_SUBSETS)):
        ready, absent = [], []
        for subset in subsets:
            try:
                n = len(read_subset(out, subset))
                ready.append(f'{subset["name"]} ({n})')
            except (FileNotFoundError, ValueError):
                absent.append(subset['name'])
        state = f'ready: {", ".join(ready)}' if ready else 'nothing ready'
        if absent:
            state += f'; not there: {", ".join(absent)}'
        lines.append(f'{role}: {state}\n  read by {CONFIGS[role]}')
    lines.append(f'The configs read data/polyp; for {out} add --cfg-options '
                 f'train_dataloader.dataset.data_root={out} val_dataloader.dataset.data_root='
                 f'{out} test_dataloader.dataset.data_root={out} (and --skip-missing to '
                 'tools/test.py while test sets are not there).')
    return '\n'.join(lines)


def convert_downloads(raw, out, skip_invalid=False, partial=False, force=False):
    """Converts the downloads under ``raw`` into ``out``, saying what it does on stdout
    and what is wrong on stderr; returns the exit status: 0 done, 1 problems (nothing
    written), 2 nothing to convert or an output folder that exists without ``force``."""
    if not osp.isdir(raw):
        print(f'error: {raw} is not a folder', file=sys.stderr)
        return 2
    raw_splits = osp.join(raw, 'splits')
    splits = standard_splits(raw_splits if osp.isdir(raw_splits) else SPLIT_DIR)
    sources, notes = find_sources(raw, splits)
    if not sources:
        print(f'error: no dataset (a folder with image and mask sub-folders) under {raw}',
              file=sys.stderr)
        return 2
    for note in notes:
        print(note)

    checked, all_problems = [], []
    for name, img_dir, mask_dir in sources:
        pairs, problems = check_source(name, img_dir, mask_dir)
        checked.append((name, pairs))
        all_problems += problems
        print(f'{name}: {len(pairs)} valid pairs, {len(problems)} problems '
              f'({img_dir}, {mask_dir})')
    merged, problems = merge_sources(checked, splits)
    all_problems += problems
    coverage = split_coverage(merged, splits)
    for (folder, name), (present, stems) in coverage.items():
        if len(present) < len(stems) and not (partial or skip_invalid):
            missing = [s for s in stems if s not in set(present)]
            all_problems.append(
                f'{folder}: {len(missing)} of the {len(stems)} images of the standard split '
                f'{name} are not there ({", ".join(missing[:5])}...); download the whole '
                'dataset, or pass --partial')

    overlapping = sources_in_targets(sources, out, merged)
    if overlapping:
        for problem in overlapping:
            print(f'error: {problem}', file=sys.stderr)
        return 2
    existing = [osp.join(out, n) for n in merged if osp.exists(osp.join(out, n))]
    if existing and not force:
        print(f'error: output exists (use --force to replace): {", ".join(existing)}',
              file=sys.stderr)
        return 2
    if all_problems:
        print(f'{len(all_problems)} problems:', file=sys.stderr)
        for problem in all_problems:
            print(f'  {problem}', file=sys.stderr)
        if not skip_invalid:
            print('nothing written; fix the files or pass --skip-invalid', file=sys.stderr)
            return 1
    try:
        for name, pairs in merged.items():
            target = osp.join(out, name)
            write_dataset(target, pairs)
            print(f'wrote {target}: {len(pairs)} pairs')
        split_out = osp.join(out, 'splits')
        if osp.isdir(raw_splits):
            for name in sorted(os.listdir(raw_splits)):
                source = osp.join(raw_splits, name)
                if osp.isfile(source) and not same_file(source, osp.join(split_out, name)):
                    with open(source, 'rb') as f:
                        write_bytes(osp.join(split_out, name), f.read(), what='split file')
        else:
            for (folder, name), (present, stems) in coverage.items():
                write_text(osp.join(split_out, name), ''.join(f'{s}\n' for s in present),
                           what='split file')
                print(f'wrote {osp.join(split_out, name)}: {len(present)} of the standard '
                      f'{len(stems)} {folder} images')
    except OutputError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    except OSError as err:
        print(f'error: cannot write under {out}: {describe_os_error(err)}; the datasets '
              'written before it are complete, the one being written was left as it was',
              file=sys.stderr)
        return 1
    print(report(out, merged))
    return 0
