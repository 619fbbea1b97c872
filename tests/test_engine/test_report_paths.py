"""The HTML report keeps its files inside its folder and links each of them, whatever the
dataset names and file names hold."""
import glob
import logging
import os
import os.path as osp
import shutil
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import cv2
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from kdas.engine import PolypReportHook
from tests.conftest import SAMPLE

# (dataset name, stem of the image file): names a browser or a path would misread.
CASES = [
    ('../../escape', 'plain'),
    ('../../escape', 'hash#1'),
    ('Kvasir', 'what?2'),
    ('Kvasir', 'percent%41 space'),
    ('/absolute/name', 'x'),
    ('a/b', 'same'),
    ('a_b', 'same'),  # cleans to the text of 'a/b': must not share its folder
]


class ImageSources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []  # (src, alt)

    def handle_starttag(self, tag, attrs):
        if tag == 'img':
            attrs = dict(attrs)
            self.images.append((attrs.get('src'), attrs.get('alt')))


def files_under(folder):
    return {p.resolve() for p in Path(folder).rglob('*') if p.is_file()}


def test_report_files_stay_in_out_dir_and_every_link_shows_its_image(tmp_path):
    sources = sorted(glob.glob(osp.join(SAMPLE, 'Kvasir-SEG', 'images', '*.jpg')))
    masks_dir = osp.join(SAMPLE, 'Kvasir-SEG', 'masks')
    src_dir = tmp_path / 'src'
    src_dir.mkdir()
    out_dir = tmp_path / 'deep' / 'er' / 'report'
    samples, shapes, source_of = [], {}, {}
    for (dataset, stem), source in zip(CASES, sources):
        # A stem listed twice (two datasets) is one image file.
        source = source_of.setdefault(stem, source)
        path = src_dir / f'{stem}.jpg'
        shutil.copy(source, path)
        gt = cv2.imread(osp.join(masks_dir, osp.basename(source)[:-4] + '.png'),
                        cv2.IMREAD_GRAYSCALE) > 127
        pred = np.roll(gt, 5, axis=1)
        sample = SegDataSample(metainfo=dict(img_path=str(path), dataset_name=dataset))
        sample.pred_sem_seg = PixelData(data=torch.from_numpy(pred[None]))
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(gt[None].astype(np.uint8)))
        samples.append(sample)
        shapes[(dataset, stem)] = cv2.imread(str(path)).shape
    before = files_under(tmp_path)

    hook = PolypReportHook(out_dir=str(out_dir))
    hook.after_test_iter(None, 0, outputs=samples)
    metrics = {f'{d}/meanDic': 0.5 for d, _ in CASES}
    hook.after_test_epoch(SimpleNamespace(logger=logging.getLogger('report-test')), metrics)

    written = files_under(tmp_path) - before
    root = out_dir.resolve()
    assert written, 'the report wrote nothing'
    outside = [p for p in written if root not in p.parents]
    assert not outside, f'written outside {root}: {outside}'
    # One overlay per record (none overwrote another) and the page.
    assert len(written) == len(CASES) + 1 and root / 'index.html' in written

    parser = ImageSources()
    parser.feed((out_dir / 'index.html').read_text(encoding='utf-8'))
    assert sorted(alt for _, alt in parser.images) == sorted(stem for _, stem in CASES)
    linked = set()
    for src, alt in parser.images:
        url = urlsplit(src)
        # A '#' or '?' left unencoded would cut the file name short in a browser.
        assert (url.scheme, url.netloc, url.query, url.fragment) == ('', '', '', ''), src
        target = (out_dir / unquote(url.path)).resolve()
        assert root in target.parents, src
        assert target.is_file(), f'{src} -> {target} does not exist'
        # The overlay of that image: full size (narrower than the report's max_width).
        picture = cv2.imread(str(target))
        assert picture is not None
        assert picture.shape in [shapes[case] for case in CASES if case[1] == alt]
        linked.add(target)
    assert linked == written - {root / 'index.html'}
    # Safe names keep the readable layout.
    assert (out_dir / 'images' / 'Kvasir' / 'what?2.jpg').is_file()
    assert (out_dir / 'images' / 'a_b' / 'same.jpg').is_file()
    assert not any(name.startswith('.') for name in os.listdir(out_dir / 'images'))
