"""Polyp segmentation datasets: ``images/`` + ``masks/`` pairs matched by file stem."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.runner import set_random_seed
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ..utils.image_files import ImageFileError, check_complete_file, image_size, index_by_stem
from ..utils.random_state import SeededIndex

# The PraNet train/test split of Kvasir-SEG and CVC-ClinicDB (file stems), shipped with the
# package; tools/dataset_converters/polyp.py writes it into the data root.
SPLIT_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'splits')

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


def subset_path(data_root: str, path: Optional[str]) -> Optional[str]:
    """A subset's ``folder`` or ``split`` under ``data_root`` (an absolute one as it is)."""
    return None if path is None else osp.join(data_root, path)


def read_subset(data_root: str, subset: dict) -> List[dict]:
    """Image/mask pairs of one subset, ``dict(name=..., folder=..., split=None)``, of a
    root (see :func:`pair_folder`)."""
    return pair_folder(subset_path(data_root, subset['folder']),
                       subset_path(data_root, subset.get('split')), subset['name'])


def present_subsets(data_root: str, subsets: Sequence[dict]
                    ) -> Tuple[List[dict], List[dict]]:
    """(the subsets whose folder is under ``data_root``, those whose folder is not), in
    their order. Whether a dataset of a root is there is decided here alone, by its
    folder; what the folder holds is checked when it is read (:func:`read_subset`)."""
    present, missing = [], []
    for subset in subsets:
        folder = subset_path(data_root, subset['folder'])
        (present if osp.isdir(folder) else missing).append(subset)
    return present, missing


def subset_pairs(data_root: str, subsets: Sequence[dict] = TEST_SUBSETS,
                 require: bool = False) -> Dict[str, List[dict]]:
    """name -> image/mask pairs of each subset present under ``data_root`` (all of them
    when ``require``)."""
    present, missing = present_subsets(data_root, subsets)
    if require and missing:
        first = missing[0]
        raise FileNotFoundError(
            f'{first["name"]}: {subset_path(data_root, first["folder"])} does not exist')
    if not present:
        raise FileNotFoundError(f'none of {", ".join(s["folder"] for s in subsets)} is in '
                                f'{data_root}')
    return {subset['name']: read_subset(data_root, subset) for subset in present}


def select_present_test_sets(dataset_cfg, skip_missing: bool) -> Optional[str]:
    """Checks that the folder of every test set of a dataset config (its ``subsets``, or
    its type's ``DEFAULT_SUBSETS``) exists. With ``skip_missing`` the missing ones are
    dropped from ``dataset_cfg.subsets`` (unless none is left) and a warning naming them is
    returned; otherwise, or when all are missing, ``FileNotFoundError`` names them. Returns
    None when nothing is missing or the config has no subsets."""
    subsets = dataset_cfg.get('subsets') or getattr(DATASETS.get(dataset_cfg.type),
                                                    'DEFAULT_SUBSETS', None)
    if not subsets:
        return None
    root = dataset_cfg.get('data_root', '')
    present, missing = present_subsets(root, subsets)
    if not missing:
        return None
    names = ', '.join(f"{s['name']} ({subset_path(root, s['folder'])})" for s in missing)
    if not skip_missing or not present:
        raise FileNotFoundError(f'test set folders not found: {names}. Convert the data with '
                                'tools/dataset_converters/polyp.py, or pass --skip-missing.')
    dataset_cfg.subsets = [dict(s) for s in present]
    return f'skipping test sets whose folders do not exist: {names}'


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
        # e.g. from EpochSeededSampler: the sample's augmentation draws from its own seed.
        if isinstance(idx, SeededIndex):
            set_random_seed(idx.seed)
            idx = idx.index
        return super().__getitem__(idx)

    def load_data_list(self) -> List[dict]:
        if self.subsets:
            pairs = [p for subset in self.subsets for p in read_subset(self.data_root, subset)]
        else:
            pairs = pair_folder(self.data_root, subset_path(self.data_root, self.split),
                                self.dataset_name)
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
