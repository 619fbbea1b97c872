"""What a person sees: overlays, the HTML report (rendered in headless Chromium) and the
training curves, checked by content."""
import glob
import json
import os.path as osp
import re
import shutil
import subprocess

import cv2
import numpy as np
import pytest

from kdas.visualization import COLOURS, draw_overlay
from kdas.visualization.overlay import FILL_ALPHA
from tests.conftest import run_tool


def blend(value, colour):
    return np.round((1 - FILL_ALPHA) * value + FILL_ALPHA * np.array(colour)).astype(int)


def test_overlay_colours_at_known_pixels():
    image = np.full((100, 120, 3), 100, np.uint8)
    gt = np.zeros((100, 120), bool)
    gt[20:60, 20:60] = True
    pred = np.zeros_like(gt)
    pred[40:80, 40:80] = True
    drawn = draw_overlay(image, pred, gt, caption='Dice 0.250')
    assert drawn.shape[1] == 120 and drawn.shape[0] > 100  # legend strip below
    canvas = drawn[:100].astype(int)
    # tolerance 1: the blend truncates
    assert np.abs(canvas[50, 50] - blend(100, COLOURS['tp'])).max() <= 1  # hit
    assert np.abs(canvas[30, 30] - blend(100, COLOURS['fn'])).max() <= 1  # missed
    assert np.abs(canvas[70, 70] - blend(100, COLOURS['fp'])).max() <= 1  # false positive
    assert (canvas[5, 5] == 100).all() and (canvas[90, 10] == 100).all()  # untouched
    assert tuple(canvas[20, 30]) == COLOURS['gt_outline']  # the truth's top edge
    assert tuple(canvas[79, 60]) == COLOURS['pred_outline']  # the prediction's bottom edge
    # the image is never dimmed: away from the drawing it keeps its brightness
    assert canvas[:, 90:].mean() == pytest.approx(100, abs=0.5)
    # without a ground truth: the predicted region and its outline only
    alone = draw_overlay(image, pred)[:100].astype(int)
    assert np.abs(alone[60, 60] - blend(100, COLOURS['tp'])).max() <= 1
    assert (alone[30, 30] == 100).all()


def dump_dom(page):
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    if chromium is None:
        pytest.skip('Chromium is not installed (apt-get install chromium); .ci/run installs '
                    'it so that CI renders the report')
    result = subprocess.run(
        [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files',
         '--virtual-time-budget=10000', '--dump-dom', f'file://{page}'],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_html_report_shows_the_table_and_every_image_worst_first(tmp_path, trained):
    cfg, ckpt, images, _ = trained
    report = tmp_path / 'report'
    run_tool('tools/test.py', cfg, ckpt, '--work-dir', str(tmp_path / 'test'), '--per-image',
             '--report', str(report))
    table = json.loads((tmp_path / 'test' / 'polyp_metrics.json').read_text())['Kvasir']
    per_image = json.loads((tmp_path / 'test' / 'polyp_metrics_per_image.json').read_text())

    dom = dump_dom(report / 'index.html')
    summary = re.search(r'<table id="summary">(.*?)</table>', dom, re.S).group(1)
    assert 'Kvasir' in summary and f'{table["meanDic"]:.4f}' in summary
    assert f'{table["Dice@0.5"]:.4f}' in summary
    figures = re.findall(r'<figure([^>]*)data-dice="([0-9.]+)"[^>]*>.*?<figcaption>(.*?): '
                         r'Dice', dom, re.S)
    assert len(figures) == len(images) == 8
    assert not any('broken' in attrs for attrs, _, _ in figures), 'an image did not load'
    scores = [float(d) for _, d, _ in figures]
    assert scores == sorted(scores)  # worst first
    for _, score, stem in figures:  # each image's Dice is its deployed mask's, Dice@0.5
        assert float(score) == pytest.approx(per_image['Kvasir'][stem]['Dice@0.5'], abs=1e-6)
        picture = cv2.imread(str(report / 'images' / 'Kvasir' / f'{stem}.jpg'))
        source = cv2.imread(next(p for p in images if osp.basename(p).startswith(stem)))
        assert picture.shape == source.shape  # full image, no legend (the page has one)

    # The check can fail: an image file that is gone shows as missing.
    gone = figures[0][2]
    (report / 'images' / 'Kvasir' / f'{gone}.jpg').unlink()
    dom = dump_dom(report / 'index.html')
    shown = re.findall(r'<figure([^>]*)>.*?<figcaption>(.*?):', dom, re.S)
    assert [stem for attrs, stem in shown if 'broken' in attrs] == [gone]


def test_plot_curves_plots_what_was_logged(tmp_path, trained):
    from kdas.utils import read_scalars
    work = osp.dirname(trained[1])
    out = tmp_path / 'curves.png'
    result = run_tool('tools/analysis_tools/plot_curves.py', work, work, '--legend', 'a', 'b',
                      '--out', str(out))
    train, val = read_scalars(work)
    last = train[-1]
    line = f'a: decode.loss_structure_p1: {len(train)} points, last ' \
           f'{last["decode.loss_structure_p1"]:.4f} at iteration {last["iter"]}'
    assert line in result.stdout
    assert f'a: mDice: {len(val)} points, last {val[-1]["mDice"]:.4f}' in result.stdout
    picture = cv2.imread(str(out))
    assert picture.shape == (450, 1200, 3)
    # run a in matplotlib's C0 (#1f77b4), run b in C1 (#ff7f0e), as BGR
    for bgr in ((180, 119, 31), (14, 127, 255)):
        assert (np.abs(picture.astype(int) - bgr).sum(axis=2) < 30).sum() > 50, bgr


def test_plot_curves_refuses_to_write_over_a_log_it_reads(tmp_path, trained):
    work = tmp_path / 'work'
    shutil.copytree(osp.dirname(trained[1]), work)
    log = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))[0]
    before = open(log, 'rb').read()
    result = run_tool('tools/analysis_tools/plot_curves.py', str(work), '--out', log,
                      check=False)
    assert result.returncode == 1 and result.stderr.startswith('error: --out ')
    assert open(log, 'rb').read() == before


def test_plot_curves_on_a_full_disk_keeps_the_previous_figure(tmp_path, trained):
    from tests.test_engine.test_checkpoint_faults import small_tmpfs
    work = osp.dirname(trained[1])
    disk = tmp_path / 'disk'
    small_tmpfs(disk, '16k')  # the figure (tens of kB) does not fit
    try:
        out = disk / 'curves.png'
        out.write_bytes(b'the previous figure')
        result = run_tool('tools/analysis_tools/plot_curves.py', work, '--out', str(out),
                          check=False)
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith(f'error: cannot write figure {out}: no space left')
        assert out.read_bytes() == b'the previous figure'
        assert [p.name for p in disk.iterdir()] == ['curves.png']  # no partial file beside it
    finally:
        subprocess.run(['umount', str(disk)], check=False)


def test_show_dir_on_a_full_disk_stops_naming_the_overlay(tmp_path, trained):
    from tests.test_engine.test_checkpoint_faults import small_tmpfs
    cfg, ckpt, _, _ = trained
    disk = tmp_path / 'disk'
    small_tmpfs(disk, '1m')  # a few of the sixteen overlays fit
    try:
        result = run_tool('tools/test.py', cfg, ckpt, '--work-dir', str(tmp_path / 'test'),
                          '--show-dir', str(disk / 'show'), check=False)
        assert result.returncode == 1, result.stdout[-2000:]
        assert re.search(r'^error: cannot write overlay \S+\.png: no space left on the '
                         r'device', result.stderr, re.M), result.stderr[-2000:]
        written = glob.glob(str(disk / '**' / '*'), recursive=True)
        # every overlay there is whole (it decodes), and no temporary file is left
        assert not [p for p in written if osp.basename(p).startswith('.kdas-tmp-')]
        pngs = [p for p in written if p.endswith('.png')]
        assert pngs and all(cv2.imread(p) is not None for p in pngs)
    finally:
        subprocess.run(['umount', str(disk)], check=False)


def test_show_dir_saves_the_same_drawing(tmp_path, trained, mmseg_outputs_of):
    """tools/test.py --show-dir draws each image with draw_overlay: the saved PNG equals an
    independent drawing of MMSegmentation's own prediction against the mask."""
    cfg, ckpt, images, masks = trained
    show = tmp_path / 'show'
    run_tool('tools/test.py', cfg, ckpt, '--work-dir', str(tmp_path / 'test'), '--show-dir',
             str(show))
    saved = {osp.basename(p): p for p in glob.glob(str(show / '**' / '*.png'), recursive=True)}
    assert len(saved) == len(images)
    predictions = mmseg_outputs_of(cfg, ckpt, images)
    for image_path, mask_path in zip(images, masks):
        stem = osp.splitext(osp.basename(image_path))[0]
        name = next(n for n in saved if stem in n)
        pred = predictions[stem]
        gt = cv2.imread(mask_path, cv2.IMREAD_GRAYSCALE) > 127
        total = pred.sum() + gt.sum()
        dice = 2 * (pred & gt).sum() / total if total else 1.
        expected = draw_overlay(cv2.imread(image_path), pred, gt, caption=f'Dice {dice:.3f}')
        np.testing.assert_array_equal(cv2.imread(saved[name]), expected, err_msg=stem)


def test_infer_overlays_with_ground_truth(tmp_path, trained):
    cfg, ckpt, images, masks = trained
    src, gts = tmp_path / 'images', tmp_path / 'gt'
    src.mkdir()
    gts.mkdir()
    for image, mask in zip(images[:2], masks[:2]):
        shutil.copy(image, src)
        shutil.copy(mask, gts)
    bad = osp.splitext(osp.basename(images[1]))[0]
    cv2.imwrite(str(gts / f'{bad}.png'), np.zeros((7, 9), np.uint8))  # wrong size
    result = run_tool('tools/infer.py', cfg, ckpt, str(src), str(tmp_path / 'out'), '--gt-dir',
                      str(gts), check=False)
    assert result.returncode == 1 and f'ground-truth mask {gts}/{bad}.png is 9x7' in (
        result.stdout + result.stderr)
    good = osp.splitext(osp.basename(images[0]))[0]
    image = cv2.imread(images[0])
    pred = cv2.imread(str(tmp_path / 'out' / 'masks' / f'{good}.png'), 0) > 0
    gt = cv2.imread(masks[0], 0) > 127
    dice = 2 * (pred & gt).sum() / (pred.sum() + gt.sum())
    expected = draw_overlay(image, pred, gt, caption=f'Dice {dice:.3f}').astype(int)
    written = cv2.imread(str(tmp_path / 'out' / 'overlays' / f'{good}.jpg')).astype(int)
    assert written.shape == expected.shape
    assert np.abs(written - expected).mean() < 4  # JPEG
    # the one whose ground truth is unusable still gets its mask and a plain overlay
    assert (tmp_path / 'out' / 'masks' / f'{bad}.png').exists()
