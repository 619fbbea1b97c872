"""Bad data stops a run early and names the file: colour masks, size mismatches, truncated
and non-image files, each built in tmp_path from copies of the embedded sample."""
import glob
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from PIL import Image

from kdas.datasets import (KvasirSEGDataset, LoadPolypAnnotation, LoadPolypImageFromFile,
                           binarize_polyp_mask)
from kdas.datasets.public_layouts import output_mask
from kdas.utils.image_files import ImageFileError
from tests.conftest import SAMPLE

KVASIR = osp.join(SAMPLE, 'Kvasir-SEG')
SAMPLE_IMAGES = sorted(glob.glob(osp.join(SAMPLE, '*', 'images', '*.jpg')))


def copy_pairs(tmp_path, count=3):
    """A dataset folder with the first ``count`` Kvasir-SEG pairs of the sample; returns
    (folder, stems)."""
    root = tmp_path / 'set'
    (root / 'images').mkdir(parents=True)
    (root / 'masks').mkdir()
    stems = sorted(osp.splitext(osp.basename(p))[0]
                   for p in glob.glob(osp.join(KVASIR, 'images', '*.jpg')))[:count]
    for stem in stems:
        shutil.copy(osp.join(KVASIR, 'images', f'{stem}.jpg'), root / 'images')
        shutil.copy(osp.join(KVASIR, 'masks', f'{stem}.png'), root / 'masks')
    return root, stems


def load_pair(img_path, seg_map_path):
    results = LoadPolypImageFromFile()(dict(img_path=str(img_path)))
    return LoadPolypAnnotation()(dict(results, seg_map_path=str(seg_map_path),
                                      seg_fields=[]))


def sample_mask(stem=None):
    """(path, 0/255 single-channel array) of a sample mask with both classes."""
    path = sorted(glob.glob(osp.join(KVASIR, 'masks', '*.png')))[0] if stem is None else \
        osp.join(KVASIR, 'masks', f'{stem}.png')
    mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert mask.ndim == 2 and set(np.unique(mask)) == {0, 255}
    return path, mask


@pytest.mark.parametrize('mode', ['RGB', 'RGBA'])
def test_a_polyp_drawn_in_red_is_the_polyp(tmp_path, mode):
    grey_path, grey = sample_mask()
    # Pure red where the polyp is, written with Pillow so that "red" is (255, 0, 0) in
    # the file whatever OpenCV's channel order.
    channels = [grey, np.zeros_like(grey), np.zeros_like(grey)]
    if mode == 'RGBA':
        channels.append(np.full_like(grey, 255))
    red_path = tmp_path / f'red_{mode}.png'
    Image.fromarray(np.dstack(channels), mode).save(red_path)
    assert cv2.imread(str(red_path), cv2.IMREAD_UNCHANGED).shape[2] == len(mode)

    loader = LoadPolypAnnotation()
    red = loader(dict(seg_map_path=str(red_path), seg_fields=[]))['gt_seg_map']
    expected = loader(dict(seg_map_path=grey_path, seg_fields=[]))['gt_seg_map']
    assert expected.sum() > 0 and (expected == 0).sum() > 0
    np.testing.assert_array_equal(red, expected)
    # The dataset converter (Pillow, RGB) makes the same mask of the same file.
    converted = output_mask(np.asarray(Image.open(red_path)))
    np.testing.assert_array_equal(converted // 255, expected)


def test_colour_masks_binarise_by_the_red_channel_of_bgr():
    region = np.array([[0, 255], [255, 0]], np.uint8)
    blue = np.dstack([region, np.zeros_like(region), np.zeros_like(region)])  # BGR
    red = blue[..., ::-1]
    assert binarize_polyp_mask(red).tolist() == [[0, 1], [1, 0]]
    assert binarize_polyp_mask(blue).tolist() == [[0, 0], [0, 0]]
    bgra = np.dstack([red, np.full_like(region, 255)])
    assert binarize_polyp_mask(bgra).tolist() == [[0, 1], [1, 0]]


def crop_mask(path, rows=7):
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert cv2.imwrite(str(path), mask[:-rows])
    return mask.shape


def test_a_mask_of_another_size_stops_the_dataset_and_the_loader(tmp_path):
    root, stems = copy_pairs(tmp_path)
    image = root / 'images' / f'{stems[1]}.jpg'
    mask = root / 'masks' / f'{stems[1]}.png'
    h, w = crop_mask(mask)
    with pytest.raises(ValueError) as err:
        KvasirSEGDataset(data_root=str(root), pipeline=[])
    message = str(err.value)
    assert str(image) in message and str(mask) in message
    assert f'{w}x{h}' in message and f'{w}x{h - 7}' in message
    assert stems[0] not in message and stems[2] not in message

    # The transform alone, after mmcv's own image loader (which sets ori_shape).
    results = LoadImageFromFile()(dict(img_path=str(image)))
    with pytest.raises(ValueError) as err:
        LoadPolypAnnotation()(dict(results, seg_map_path=str(mask), seg_fields=[]))
    message = str(err.value)
    assert str(image) in message and str(mask) in message
    assert f'{w}x{h}' in message and f'{w}x{h - 7}' in message


def test_the_size_check_uses_the_original_size_so_resized_test_images_pass():
    # The test pipelines load the mask after Resize: its size is the image's original one.
    from mmengine.dataset import Compose
    from mmseg.registry import TRANSFORMS
    pipeline = Compose([TRANSFORMS.build(t) for t in (
        dict(type='LoadPolypImageFromFile'),
        dict(type='Resize', scale=(64, 64), keep_ratio=False),
        dict(type='LoadPolypAnnotation'))])
    mask_path, mask = sample_mask()
    image_path = osp.join(KVASIR, 'images', osp.basename(mask_path)[:-4] + '.jpg')
    out = pipeline(dict(img_path=image_path, seg_map_path=mask_path, seg_fields=[]))
    assert out['img'].shape[:2] == (64, 64)
    np.testing.assert_array_equal(out['gt_seg_map'], mask // 255)


def test_several_bad_pairs_are_counted(tmp_path):
    root, stems = copy_pairs(tmp_path)
    crop_mask(root / 'masks' / f'{stems[0]}.png')
    (root / 'images' / f'{stems[2]}.jpg').write_bytes(b'')
    with pytest.raises(ValueError, match='2 of 3 image/mask pairs are unusable') as err:
        KvasirSEGDataset(data_root=str(root), pipeline=[])
    assert f'{stems[0]}.png' in str(err.value) and f'{stems[2]}.jpg' in str(err.value)
    assert stems[1] not in str(err.value)


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def not_an_image(path):
    path.write_bytes(b'GIF? no: a text file saved under an image name\n' * 20)


def spoiled_dataset(tmp_path, relative, spoil):
    """A copy of the sample with one file spoiled: building its dataset names the file.
    Returns (root, stems, the spoiled file)."""
    root, stems = copy_pairs(tmp_path)
    path = root / relative(stems)
    spoil(path)
    with pytest.raises(ValueError, match=f'unusable image/mask pair: .*{path}'):
        KvasirSEGDataset(data_root=str(root), pipeline=[])
    return root, stems, path


@pytest.mark.parametrize('spoil', [truncate, not_an_image])
def test_a_bad_image_stops_the_dataset_and_the_loader_naming_it(tmp_path, spoil):
    _, _, image = spoiled_dataset(tmp_path, lambda stems: f'images/{stems[1]}.jpg', spoil)
    with pytest.raises(ImageFileError, match=str(image)):
        LoadPolypImageFromFile()(dict(img_path=str(image)))
    assert LoadPolypImageFromFile(ignore_empty=True)(dict(img_path=str(image))) is None


def test_a_truncated_mask_stops_the_dataset_and_the_loader_naming_it(tmp_path):
    root, stems, mask = spoiled_dataset(tmp_path, lambda stems: f'masks/{stems[0]}.png',
                                        truncate)
    with pytest.raises(ImageFileError, match=str(mask)):
        load_pair(root / 'images' / f'{stems[0]}.jpg', mask)


def test_a_missing_image_file_is_named(tmp_path):
    gone = tmp_path / 'gone.jpg'
    with pytest.raises(ImageFileError, match=str(gone)):
        LoadPolypImageFromFile()(dict(img_path=str(gone)))


@pytest.mark.parametrize('kwargs', [dict(), dict(to_float32=True),
                                    dict(color_type='unchanged'), dict(color_type='grayscale')])
def test_sample_images_load_to_the_same_pixels_as_mmcv(kwargs):
    assert len(SAMPLE_IMAGES) >= 60
    ours, mmcv_loader = LoadPolypImageFromFile(**kwargs), LoadImageFromFile(**kwargs)
    for path in SAMPLE_IMAGES:
        got, want = ours(dict(img_path=path)), mmcv_loader(dict(img_path=path))
        assert got['img'].dtype == want['img'].dtype
        np.testing.assert_array_equal(got['img'], want['img'])
        assert got['img_shape'] == want['img_shape'] and got['ori_shape'] == want['ori_shape']


def test_the_sample_builds_and_loads_through_the_config_pipeline():
    from mmengine.config import Config

    from kdas.datasets import PolypTrainDataset
    from tests.conftest import REPO
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/polyp_sample.py'))
    assert [t['type'] for t in cfg.train_pipeline][:2] == ['LoadPolypImageFromFile',
                                                          'LoadPolypAnnotation']
    train = PolypTrainDataset(data_root=SAMPLE, pipeline=cfg.test_pipeline)
    assert len(train) == 48
    sample = train[0]
    assert sample['inputs'].shape[1:] == (160, 160)
    assert sample['data_samples'].gt_sem_seg.data.sum() > 0


def test_trailing_bytes_after_the_end_marker_are_accepted(tmp_path):
    from kdas.utils.image_files import check_complete_file, read_image
    source = sorted(os.listdir(osp.join(SAMPLE, 'Kvasir-SEG', 'images')))[0]
    data = open(osp.join(SAMPLE, 'Kvasir-SEG', 'images', source), 'rb').read()
    padded = tmp_path / 'padded.jpg'
    padded.write_bytes(data + b'\0' * 5000)  # padding, or a camera's trailer
    check_complete_file(str(padded))
    expected = read_image(osp.join(SAMPLE, 'Kvasir-SEG', 'images', source))
    assert (read_image(str(padded)) == expected).all()
