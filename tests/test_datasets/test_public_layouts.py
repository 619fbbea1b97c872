"""Public downloads, as users get them, go through the converter into training and testing.

Small copies of both public layouts are built from the embedded sample:
- PraNet's ``TrainDataset`` (merged training images) + ``TestDataset/<set>``, the download
  the Polyp-PVT and KDAS READMEs point to;
- each dataset from its own site: Kvasir-SEG with JPEG masks, and CVC-ClinicDB as Kaggle
  ships it (``PNG/`` and ``TIF/`` copies, ``Original/`` + ``Ground Truth/``).
"""
import json
import os
import os.path as osp
import shutil
import subprocess

import cv2
import pytest

from tests.conftest import SAMPLE, run_tool, write_tiny_config

STUDENT = 'configs/quickstart/polyppvt_pvtv2b0_sample.py'
CONVERT = 'tools/dataset_converters/polyp.py'


def split(name):
    return open(osp.join(SAMPLE, 'splits', name)).read().split()


def sample_pairs(folder, split_name):
    for stem in split(split_name):
        image = next(f for f in os.listdir(osp.join(SAMPLE, folder, 'images'))
                     if osp.splitext(f)[0] == stem)
        yield stem, osp.join(SAMPLE, folder, 'images', image), osp.join(
            SAMPLE, folder, 'masks', stem + '.png')


def pranet_layout(raw):
    for sub in ('image', 'mask'):
        (raw / 'TrainDataset' / sub).mkdir(parents=True)
    for folder, prefix in (('Kvasir-SEG', 'kvasir'), ('CVC-ClinicDB', 'clinicdb')):
        for stem, image, mask in sample_pairs(folder, f'{prefix}_train.txt'):
            # PraNet ships every image as PNG
            cv2.imwrite(str(raw / 'TrainDataset' / 'image' / f'{stem}.png'), cv2.imread(image))
            shutil.copy(mask, raw / 'TrainDataset' / 'mask' / f'{stem}.png')
        test = raw / 'TestDataset' / ('Kvasir' if prefix == 'kvasir' else 'CVC-ClinicDB')
        (test / 'images').mkdir(parents=True)
        (test / 'masks').mkdir()
        for stem, image, mask in sample_pairs(folder, f'{prefix}_test.txt'):
            cv2.imwrite(str(test / 'images' / f'{stem}.png'), cv2.imread(image))
            shutil.copy(mask, test / 'masks' / f'{stem}.png')


def own_sites_layout(raw):
    kvasir = raw / 'Kvasir-SEG'
    (kvasir / 'images').mkdir(parents=True)
    (kvasir / 'masks').mkdir()
    for name in ('kvasir_train.txt', 'kvasir_test.txt'):
        for stem, image, mask in sample_pairs('Kvasir-SEG', name):
            shutil.copy(image, kvasir / 'images')
            # the release's masks are 3-channel JPEGs with compression noise
            cv2.imwrite(str(kvasir / 'masks' / f'{stem}.jpg'),
                        cv2.cvtColor(cv2.imread(mask, 0), cv2.COLOR_GRAY2BGR))
    clinic = raw / 'CVC-ClinicDB'
    for fmt, ext in (('PNG', '.png'), ('TIF', '.tif')):
        (clinic / fmt / 'Original').mkdir(parents=True)
        (clinic / fmt / 'Ground Truth').mkdir()
    for name in ('clinicdb_train.txt', 'clinicdb_test.txt'):
        for stem, image, mask in sample_pairs('CVC-ClinicDB', name):
            for fmt, ext in (('PNG', '.png'), ('TIF', '.tif')):
                cv2.imwrite(str(clinic / fmt / 'Original' / f'{stem}{ext}'), cv2.imread(image))
                cv2.imwrite(str(clinic / fmt / 'Ground Truth' / f'{stem}{ext}'),
                            cv2.imread(mask, 0))


@pytest.mark.parametrize('layout', [pranet_layout, own_sites_layout])
def test_public_layout_converts_trains_and_tests(tmp_path, layout):
    raw, out = tmp_path / 'raw', tmp_path / 'polyp'
    raw.mkdir()
    layout(raw)

    # The sample holds a fraction of each standard split: refused without --partial.
    refused = run_tool(CONVERT, str(raw), str(out), check=False)
    assert refused.returncode == 1
    assert 'of the standard split kvasir_train.txt are not there' in refused.stderr
    assert not out.exists()

    result = run_tool(CONVERT, str(raw), str(out), '--partial')
    if layout is own_sites_layout:
        assert 'CVC-ClinicDB: using the PNG copy' in result.stdout
    for folder, prefix in (('Kvasir-SEG', 'kvasir'), ('CVC-ClinicDB', 'clinicdb')):
        assert len(os.listdir(out / folder / 'images')) == 32
        for part in ('train', 'test'):
            written = (out / 'splits' / f'{prefix}_{part}.txt').read_text().split()
            assert sorted(written) == sorted(split(f'{prefix}_{part}.txt'))
    mask = cv2.imread(str(next((out / 'Kvasir-SEG' / 'masks').iterdir())), cv2.IMREAD_UNCHANGED)
    assert mask.ndim == 2 and set(mask.ravel().tolist()) <= {0, 255}
    assert 'train: ready: Kvasir (24), CVC-ClinicDB (24)' in result.stdout
    assert 'not there: CVC-ColonDB, ETIS-LaribPolypDB, CVC-300' in result.stdout
    assert 'configs/kdas/' in result.stdout

    # The converted root trains and tests with the shipped config and the README's options.
    cfg = write_tiny_config(tmp_path, STUDENT, size=64, iters=2)
    roots = [f'{loader}.dataset.data_root={out}'
             for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    run_tool('tools/train.py', cfg, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
             *roots)
    run_tool('tools/test.py', cfg, str(tmp_path / 'work' / 'iter_2.pth'), '--work-dir',
             str(tmp_path / 'test'), '--cfg-options', *roots)
    table = json.loads((tmp_path / 'test' / 'polyp_metrics.json').read_text())
    assert table['Kvasir']['images'] == 8


def snapshot(folder):
    """{relative path: bytes} of every file under ``folder``."""
    return {osp.relpath(osp.join(d, n), folder): open(osp.join(d, n), 'rb').read()
            for d, _, names in os.walk(folder) for n in names}


def test_converting_a_dataset_onto_itself_is_refused_and_loses_nothing(tmp_path):
    raw = tmp_path / 'polyp'
    shutil.copytree(SAMPLE, raw)
    before = snapshot(raw)
    result = run_tool(CONVERT, str(raw), str(raw), '--partial', '--force', check=False)
    assert result.returncode == 2
    assert f'source folder {raw / "Kvasir-SEG" / "images"} lies in {raw / "Kvasir-SEG"}, ' \
        'which the conversion replaces' in result.stderr
    assert snapshot(raw) == before


def test_a_full_disk_while_replacing_a_dataset_keeps_the_previous_one(tmp_path):
    from tests.test_engine.test_checkpoint_faults import small_tmpfs
    disk = tmp_path / 'disk'
    small_tmpfs(disk, '8m')
    try:
        out = disk / 'polyp'
        run_tool(CONVERT, SAMPLE, str(out), '--partial')
        before = snapshot(out)
        stat = os.statvfs(disk)
        with open(disk / 'filler', 'wb') as f:  # leaves 100 kB: less than one dataset
            f.write(b'\0' * (stat.f_bavail * stat.f_frsize - 100 * 1024))
        result = run_tool(CONVERT, SAMPLE, str(out), '--partial', '--force', check=False)
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stderr.startswith(f'error: cannot write under {out}: ')
        assert 'no space left on the device' in result.stderr and 'Traceback' not in result.stderr
        assert snapshot(out) == before  # no temporary folder left either
    finally:
        subprocess.run(['umount', str(disk)], check=False)
