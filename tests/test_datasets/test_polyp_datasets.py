import os
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest

from kdas.datasets import (KvasirSEGDataset, LoadPolypAnnotation, PolypTestDataset,
                           PolypTrainDataset, binarize_polyp_mask)
from tests.conftest import SAMPLE, run_tool


@pytest.mark.parametrize('mask,expected', [
    (np.array([[0, 1], [1, 0]], np.uint8), [[0, 1], [1, 0]]),
    (np.array([[0, 255], [128, 127]], np.uint8), [[0, 1], [1, 0]]),
    (np.array([[3, 250], [140, 90]], np.uint8), [[0, 1], [1, 0]]),  # JPEG noise
    (np.array([[0, 65535], [40000, 30000]], np.uint16), [[0, 1], [1, 0]]),
    (np.dstack([np.array([[0, 255], [255, 0]], np.uint8)] * 3), [[0, 1], [1, 0]]),
])
def test_mask_binarisation(mask, expected):
    assert binarize_polyp_mask(mask).tolist() == expected


def test_sample_datasets_pair_by_stem_across_extensions():
    train = PolypTrainDataset(data_root=SAMPLE, pipeline=[])
    assert len(train) == 48
    info = train.get_data_info(0)
    assert info['img_path'].endswith('.jpg') and info['seg_map_path'].endswith('.png')
    assert {train.get_data_info(i)['dataset_name'] for i in range(len(train))} == {
        'Kvasir', 'CVC-ClinicDB'}
    test = PolypTestDataset(data_root=SAMPLE, pipeline=[], subsets=[
        dict(name='Kvasir', folder='Kvasir-SEG', split='splits/kvasir_test.txt')])
    assert len(test) == 8
    single = KvasirSEGDataset(data_root=osp.join(SAMPLE, 'Kvasir-SEG'), pipeline=[])
    assert len(single) == 32 and single.get_data_info(0)['dataset_name'] == 'Kvasir'


def test_real_data_split_sizes(polyp_data):
    train = PolypTrainDataset(data_root=polyp_data, pipeline=[])
    assert len(train) == 1450
    seen = PolypTestDataset(data_root=polyp_data, pipeline=[], subsets=[
        dict(name='Kvasir', folder='Kvasir-SEG', split='splits/kvasir_test.txt'),
        dict(name='CVC-ClinicDB', folder='CVC-ClinicDB', split='splits/clinicdb_test.txt')])
    assert len(seen) == 162


def test_split_naming_absent_stems_is_an_error(tmp_path):
    root = tmp_path / 'set'
    shutil.copytree(osp.join(SAMPLE, 'Kvasir-SEG'), root)
    (tmp_path / 'split.txt').write_text('nope\n')
    with pytest.raises(FileNotFoundError, match='split.txt names 1 stems.*nope'):
        KvasirSEGDataset(data_root=str(root), split=str(tmp_path / 'split.txt'), pipeline=[])


def test_annotation_loader_names_corrupt_mask(tmp_path):
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not a png')
    with pytest.raises(OSError, match='bad.png'):
        LoadPolypAnnotation()(dict(seg_map_path=str(bad), seg_fields=[]))


def make_raw(tmp_path, polyp_data):
    """The shared data as raw input, plus a copy with a missing mask, a truncated JPEG
    and a size mismatch."""
    raw = tmp_path / 'raw'
    raw.mkdir()
    os.symlink(osp.join(polyp_data, 'CVC-ClinicDB'), raw / 'CVC-ClinicDB')
    shutil.copytree(osp.join(polyp_data, 'splits'), raw / 'splits')
    broken = raw / 'Kvasir-SEG'
    (broken / 'images').mkdir(parents=True)
    (broken / 'masks').mkdir()
    src = osp.join(polyp_data, 'Kvasir-SEG')
    stems = sorted(os.listdir(osp.join(src, 'images')))[:5]
    for name in stems:
        stem = osp.splitext(name)[0]
        shutil.copy(osp.join(src, 'images', name), broken / 'images' / name)
        shutil.copy(osp.join(src, 'masks', stem + '.png'), broken / 'masks' / (stem + '.png'))
    s = [osp.splitext(n)[0] for n in stems]
    os.remove(broken / 'masks' / f'{s[0]}.png')  # missing mask
    data = (broken / 'images' / f'{s[1]}.jpg').read_bytes()
    (broken / 'images' / f'{s[1]}.jpg').write_bytes(data[:len(data) // 3])  # truncated
    mask = cv2.imread(str(broken / 'masks' / f'{s[2]}.png'), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(broken / 'masks' / f'{s[2]}.png'), mask[:-7])  # size mismatch
    (broken / 'masks' / f'{s[3]}.png').write_bytes(b'')  # empty file
    return raw, s


def test_converter_reports_every_problem_and_writes_nothing(tmp_path, polyp_data):
    raw, s = make_raw(tmp_path, polyp_data)
    out = tmp_path / 'out'
    result = run_tool('tools/dataset_converters/polyp.py', str(raw), str(out), check=False)
    assert result.returncode == 1
    err = result.stderr
    # 4 broken pairs, and a Kvasir-SEG without most of its standard train and test split
    assert '6 problems' in err
    assert re.search(r'Kvasir-SEG: \d+ of the 900 images of the standard split '
                     r'kvasir_train.txt are not there', err)
    assert f'{s[0]}.jpg has no mask' in err
    assert f'{s[1]}.jpg: unreadable' in err
    assert f'{s[2]}.jpg is' in err and f'{s[2]}.png is' in err
    assert f'{s[3]}.png: empty file' in err
    assert not out.exists()

    result = run_tool('tools/dataset_converters/polyp.py', str(raw), str(out),
                      '--skip-invalid')
    assert 'CVC-ClinicDB: 612 valid pairs, 0 problems' in result.stdout
    assert sorted(os.listdir(out / 'Kvasir-SEG' / 'images')) == [f'{s[4]}.jpg']
    assert len(os.listdir(out / 'CVC-ClinicDB' / 'masks')) == 612
    mask = cv2.imread(str(out / 'Kvasir-SEG' / 'masks' / f'{s[4]}.png'), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask)) <= {0, 255}
    # The converted layout is what the datasets read.
    assert len(PolypTestDataset(data_root=str(out), pipeline=[], subsets=[
        dict(name='C', folder='CVC-ClinicDB', split='splits/clinicdb_test.txt')])) == 62

    again = run_tool('tools/dataset_converters/polyp.py', str(raw), str(out),
                     '--skip-invalid', check=False)
    assert again.returncode == 2 and 'use --force' in again.stderr


def test_seeded_sampler_keeps_default_order_and_gives_each_sample_an_epoch_seed():
    from mmengine.dataset import DefaultSampler

    from kdas.datasets import EpochSeededSampler
    from kdas.utils.random_state import derive_seed
    train = PolypTrainDataset(data_root=SAMPLE, pipeline=[])
    seeded, plain = (cls(train, shuffle=True, seed=7) for cls in (EpochSeededSampler,
                                                                  DefaultSampler))
    for epoch in (0, 3):
        seeded.set_epoch(epoch)
        plain.set_epoch(epoch)
        drawn = list(seeded)
        assert [s.index for s in drawn] == list(plain)
        assert [s.seed for s in drawn] == [derive_seed(7, epoch, s.index) for s in drawn]
    seeded.set_epoch(0)
    first = {s.index: s.seed for s in seeded}
    seeded.set_epoch(1)
    assert all(first[s.index] != s.seed for s in seeded)


def test_a_seeded_index_fixes_the_augmentation_whatever_ran_before():
    import random

    import torch

    from kdas.datasets import SeededIndex
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadPolypAnnotation'),
                dict(type='Resize', scale=(32, 32), keep_ratio=False),
                dict(type='RandomRotate', prob=1.0, degree=90, pad_val=0, seg_pad_val=0),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                dict(type='PackSegInputs')]
    train = PolypTrainDataset(data_root=SAMPLE, pipeline=pipeline)

    def image(idx, noise):
        random.random(), np.random.rand(noise), torch.rand(noise)  # other draws before
        return train[idx]['inputs']

    assert torch.equal(image(SeededIndex(5, 11), 1), image(SeededIndex(5, 11), 9))
    unseeded = [image(5, n) for n in (1, 9, 4, 2)]
    assert any(not torch.equal(unseeded[0], u) for u in unseeded[1:])
    assert image(SeededIndex(5, 11), 1).shape == unseeded[0].shape


def test_two_files_of_one_stem_skip_that_stem_only(tmp_path):
    """A stem with two files (a.jpg, a.png) cannot be paired: it is a named problem, and
    --skip-invalid still converts every other pair of that dataset."""
    raw = tmp_path / 'raw' / 'Kvasir-SEG'
    (raw / 'images').mkdir(parents=True)
    (raw / 'masks').mkdir()
    src = osp.join(SAMPLE, 'Kvasir-SEG')
    names = sorted(os.listdir(osp.join(src, 'images')))[:4]
    for name in names:
        shutil.copy(osp.join(src, 'images', name), raw / 'images' / name)
        stem = osp.splitext(name)[0]
        shutil.copy(osp.join(src, 'masks', stem + '.png'), raw / 'masks' / (stem + '.png'))
    twice = osp.splitext(names[0])[0]
    cv2.imwrite(str(raw / 'images' / f'{twice}.png'), cv2.imread(str(raw / 'images' / names[0])))
    out = tmp_path / 'out'
    refused = run_tool('tools/dataset_converters/polyp.py', str(tmp_path / 'raw'), str(out),
                       '--partial', check=False)
    assert refused.returncode == 1 and f"share the stem '{twice}'" in refused.stderr
    assert 'has no image' not in refused.stderr  # its mask is not reported a second time
    run_tool('tools/dataset_converters/polyp.py', str(tmp_path / 'raw'), str(out), '--partial',
             '--skip-invalid')
    assert sorted(os.listdir(out / 'Kvasir-SEG' / 'images')) == names[1:]
