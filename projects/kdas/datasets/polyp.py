"""Polyp segmentation datasets: ``images/`` + ``masks/`` pairs matched by file stem."""
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence

import mmengine
from mmengine.runner import set_random_seed
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ..utils.image_files import ImageFileError, check_complete_file, image_size
from .seeded_sampler import SeededIndex

# The PraNet train/test split of Kvasir-SEG and CVC-ClinicDB (file stems), shipped with the
# package; tools/dataset_converters/polyp.py writes it into the data root.
SPLIT_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'splits')
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')

# The merged training set and the five test sets of PraNet / Polyp-PVT / KDAS, as laid out
# by tools/dataset_converters/polyp.py under one root.
TRAIN_SUBSETS = (
    dict(name='Kvasir', folder='Kvasir-SEG', split='splits/kvasir_train.txt'),
    dict(name='CVC-ClinicDB', folder='CVC-ClinicDB', split='splits/clinicdb_train.txt'),
)
TEST_SUBSETS = (
    dict(name='Kvasir', folder='Kvasir-SEG', split='splits/kvasir_test.txt'),
    dict(name='CVC-ClinicDB', folder='CVC-ClinicDB', split='splits/clinicdb_test.txt'),
    dict(name='CVC-ColonDB', folder='CVC-ColonDB'),
    dict(name='ETIS-LaribPolypDB', folder='ETIS-LaribPolypDB'),
    dict(name='CVC-300', folder='CVC-300'),
)


def by_stem(paths: Iterable[str], where: str) -> Dict[str, str]:
    """stem -> path; two paths of one stem (``a.jpg``, ``a.png``) are an error naming
    both, since whatever pairs or names files by stem could not tell them apart."""
    index = {}
    for path in paths:
        stem = osp.splitext(osp.basename(path))[0]
        if stem in index:
            raise ValueError(f'{where}: {index[stem]} and {path} share the stem {stem!r}, '
                             'so they cannot be told apart by it; rename one')
        index[stem] = path
    return index


def index_by_stem(folder: str, what: str) -> dict:
    """stem -> file name of every image-like file in ``folder`` (see :func:`by_stem`)."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{what} folder {folder} does not exist')
    names = [name for name in sorted(mmengine.list_dir_or_file(folder, list_dir=False))
             if osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS]
    return by_stem(names, f'{what} folder {folder}')


def read_split(path: str) -> List[str]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file {path} does not exist')
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip()]


def pair_folder(folder: str, split: Optional[str], name: str) -> List[dict]:
    """Image/mask pairs of one dataset folder (``folder/images``, ``folder/masks``)."""
    img_dir, mask_dir = osp.join(folder, 'images'), osp.join(folder, 'masks')
    images, masks = index_by_stem(img_dir, 'image'), index_by_stem(mask_dir, 'mask')
    if split is not None:
        stems = read_split(split)
        absent = [s for s in stems if s not in images or s not in masks]
        if absent:
            raise FileNotFoundError(
                f'split file {split} names {len(absent)} stems without an image or mask in '
                f'{folder}: {", ".join(absent[:10])}')
    else:
        stems = sorted(set(images) & set(masks))
    if not stems:
        raise FileNotFoundError(f'no image/mask pairs in {img_dir} and {mask_dir}')
    return [
        dict(img_path=osp.join(img_dir, images[s]), seg_map_path=osp.join(mask_dir, masks[s]),
             dataset_name=name) for s in stems
    ]


def pair_problem(pair: dict) -> Optional[str]:
    """What makes an image/mask pair unusable, or None: a file that is missing, empty,
    truncated or not an image, or a mask whose size is not its image's. Reads each file's
    header and last bytes only, no pixels. The text names the dataset and both files."""
    img, mask = pair['img_path'], pair['seg_map_path']
    name = pair.get('dataset_name', '')
    sizes = []
    for path, what, other in ((img, 'image', f'its mask {mask}'),
                              (mask, 'mask', f'the mask of {img}')):
        try:
            check_complete_file(path, what)
            sizes.append(image_size(path, what, oriented=what == 'image'))
        except ImageFileError as err:
            return f'{name}: {err} ({other})'
    (img_h, img_w), (mask_h, mask_w) = sizes
    if (img_h, img_w) != (mask_h, mask_w):
        return (f'{name}: image {img} is {img_w}x{img_h} but its mask {mask} is '
                f'{mask_w}x{mask_h}')
    return None


def validate_pairs(pairs: Sequence[dict], shown: int = 5) -> None:
    """Raises ``ValueError`` naming the first ``shown`` unusable pairs (see
    :func:`pair_problem`) and saying how many there are, so that a bad file stops a run
    when its dataset is built, not in a data loader worker at some iteration."""
    problems = [p for p in map(pair_problem, pairs) if p is not None]
    if not problems:
        return
    if len(problems) == 1:
        raise ValueError(f'unusable image/mask pair: {problems[0]}')
    listed = '\n  '.join(problems[:shown])
    rest = f'\n  ... and {len(problems) - shown} more' if len(problems) > shown else ''
    raise ValueError(f'{len(problems)} of {len(pairs)} image/mask pairs are unusable:\n  '
                     f'{listed}{rest}')


@DATASETS.register_module()
class PolypDataset(BaseSegDataset):
    """Binary polyp data: one dataset folder, or several under one root.

    A dataset folder holds ``images/`` and ``masks/``; image and mask of a pair share a
    file stem (their extensions may differ). Masks are binarised by
    :class:`LoadPolypAnnotation`; label 1 is the polyp. Each sample carries
    ``dataset_name``, by which :class:`PolypMetric` reports one row per dataset.

    Every pair is checked when the dataset is built (:func:`validate_pairs`: complete
    files, equal image and mask sizes, from the files' headers), so that a bad file
    stops a run before its first iteration, with an error naming the pair.

    Args:
        data_root (str): The dataset folder, or with ``subsets`` the common root.
        split (str, optional): Stems to use (one a line), relative to ``data_root``.
            Without it every image that has a mask is used.
        subsets (Sequence[dict], optional): Several datasets under ``data_root``, each
            ``dict(name=..., folder=..., split=None)`` (``split`` relative to the root).
        dataset_name (str, optional): Name of a single-folder dataset; defaults to the
            class's ``DEFAULT_NAME`` or the folder name.
    """
    METAINFO = dict(classes=('background', 'polyp'), palette=[[0, 0, 0], [0, 255, 0]])
    DEFAULT_NAME: Optional[str] = None
    DEFAULT_SUBSETS: Optional[Sequence[dict]] = None

    def __init__(self, data_root: str, split: Optional[str] = None,
                 subsets: Optional[Sequence[dict]] = None, dataset_name: Optional[str] = None,
                 **kwargs):
        self.split = split
        self.subsets = [dict(s) for s in (subsets or self.DEFAULT_SUBSETS or [])]
        self.dataset_name = (dataset_name or self.DEFAULT_NAME or
                             osp.basename(osp.normpath(data_root)))
        kwargs.setdefault('data_prefix', dict(img_path='', seg_map_path=''))
        super().__init__(data_root=data_root, **kwargs)

    def __getitem__(self, idx):
        # From EpochSeededSampler: the sample's augmentation draws from its own seed.
        if isinstance(idx, SeededIndex):
            set_random_seed(idx.seed)
            idx = idx.index
        return super().__getitem__(idx)

    def _root_path(self, path: Optional[str]) -> Optional[str]:
        if path is None or osp.isabs(path):
            return path
        return osp.join(self.data_root, path)

    def load_data_list(self) -> List[dict]:
        if self.subsets:
            pairs = []
            for subset in self.subsets:
                pairs += pair_folder(self._root_path(subset['folder']),
                                     self._root_path(subset.get('split')), subset['name'])
        else:
            pairs = pair_folder(self.data_root, self._root_path(self.split), self.dataset_name)
        validate_pairs(pairs)
        for pair in pairs:
            pair.update(label_map=self.label_map, reduce_zero_label=False, seg_fields=[])
        return pairs


def _register(class_name: str, doc: str, **attrs):
    cls = type(class_name, (PolypDataset, ), dict(attrs, __doc__=doc))
    return DATASETS.register_module(module=cls)


KvasirSEGDataset = _register('KvasirSEGDataset', 'Kvasir-SEG (reported as "Kvasir").',
                             DEFAULT_NAME='Kvasir')
CVCClinicDBDataset = _register('CVCClinicDBDataset', 'CVC-ClinicDB.',
                               DEFAULT_NAME='CVC-ClinicDB')
CVCColonDBDataset = _register('CVCColonDBDataset', 'CVC-ColonDB.', DEFAULT_NAME='CVC-ColonDB')
ETISLaribPolypDBDataset = _register('ETISLaribPolypDBDataset', 'ETIS-LaribPolypDB.',
                                    DEFAULT_NAME='ETIS-LaribPolypDB')
CVC300Dataset = _register('CVC300Dataset', 'CVC-300 (EndoScene test).', DEFAULT_NAME='CVC-300')
PolypTrainDataset = _register(
    'PolypTrainDataset', 'The merged Kvasir-SEG (900) + CVC-ClinicDB (550) training split '
    'under one root.', DEFAULT_SUBSETS=TRAIN_SUBSETS)
PolypTestDataset = _register(
    'PolypTestDataset', 'The five standard test sets under one root (one metric row each).',
    DEFAULT_SUBSETS=TEST_SUBSETS)
