"""A static HTML report of a test run: the summary table and every image's overlay, worst
first, per dataset. It opens from disk in a browser (no server, no network)."""
import html
import os
import os.path as osp
from collections import OrderedDict

import cv2
from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ..evaluation.report import SHORT_COLUMNS, display
from ..visualization import draw_overlay
from ..visualization.overlay import legend_items
from ..visualization.visualizer import dice

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; background: #fafafa; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
.legend span { display: inline-block; margin-right: 1.2em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em;
          vertical-align: middle; border: 1px solid #666; }
.gallery { display: flex; flex-wrap: wrap; gap: 10px; }
figure { margin: 0; width: 260px; background: #fff; border: 1px solid #ccc; padding: 4px; }
figure img { width: 100%; display: block; }
figure.broken img { display: none; }
figure.broken::before { content: "image missing"; color: #b00; }
figcaption { font-size: 0.85em; margin-top: 3px; }
"""
# Shows "image missing" in place of an image file that did not load.
ON_ERROR = "this.parentNode.classList.add('broken')"


def _hex(bgr):
    b, g, r = bgr
    return f'#{r:02x}{g:02x}{b:02x}'


@HOOKS.register_module()
class PolypReportHook(Hook):
    """Writes ``out_dir/index.html`` and ``out_dir/images/<dataset>/<stem>.jpg`` after a
    test run. Each image's Dice is that of the deployed mask (``pred_sem_seg``), the
    figure the table calls Dice@0.5; the gallery of each dataset is sorted by it, worst
    first.

    Args:
        out_dir (str): Where the page and its images go.
        title (str): The page's heading (e.g. the config and checkpoint).
        max_width (int): Width of the overlay images in the report.
    """

    priority = 'LOW'

    def __init__(self, out_dir: str, title: str = 'Polyp test report', max_width: int = 520):
        self.out_dir = out_dir
        self.title = title
        self.max_width = max_width
        self.records = []

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        for sample in outputs or []:
            path = sample.img_path
            dataset = sample.metainfo.get('dataset_name') or 'dataset'
            stem = osp.splitext(osp.basename(path))[0]
            pred = sample.pred_sem_seg.data[0].cpu().numpy().astype(bool)
            gt = sample.gt_sem_seg.data[0].cpu().numpy() == 1
            score = dice(pred, gt)
            image = cv2.imread(path, cv2.IMREAD_COLOR)
            if image is None:
                raise OSError(f'cannot read {path} for the report')
            drawn = draw_overlay(image, pred, gt, legend=False)
            if drawn.shape[1] > self.max_width:
                height = round(drawn.shape[0] * self.max_width / drawn.shape[1])
                drawn = cv2.resize(drawn, (self.max_width, height),
                                   interpolation=cv2.INTER_AREA)
            relative = osp.join('images', dataset, f'{stem}.jpg')
            os.makedirs(osp.join(self.out_dir, 'images', dataset), exist_ok=True)
            cv2.imwrite(osp.join(self.out_dir, relative), drawn,
                        [cv2.IMWRITE_JPEG_QUALITY, 88])
            self.records.append((dataset, stem, score, relative))

    def after_test_epoch(self, runner, metrics=None):
        records = [r for part in all_gather_object(self.records) for r in part]
        self.records = []
        if not is_main_process():
            return
        path = write_report(self.out_dir, self.title, records, metrics or {})
        runner.logger.info(f'HTML report: {path}')


def write_report(out_dir, title, records, metrics):
    """The page: summary table (from ``metrics``, keys ``dataset/column``) and galleries
    of ``records`` [(dataset, stem, dice, image path relative to out_dir)]."""
    groups = OrderedDict()
    for dataset, stem, score, relative in records:
        groups.setdefault(dataset, []).append((score, stem, relative))
    esc = html.escape
    parts = [f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
             f'<title>{esc(title)}</title><style>{STYLE}</style></head><body>',
             f'<h1>{esc(title)}</h1>', '<h2>Summary</h2>', '<table id="summary"><tr>']
    columns = [c for c in SHORT_COLUMNS if any(f'{d}/{c}' in metrics for d in groups)]
    parts.append(''.join(f'<th>{esc(h)}</th>' for h in
                         ['dataset', 'images'] + [display(c) for c in columns]) + '</tr>')
    for dataset, items in groups.items():
        cells = [f'<a href="#{esc(dataset)}">{esc(dataset)}</a>', str(len(items))]
        cells += [f'{metrics[f"{dataset}/{c}"]:.4f}' if f'{dataset}/{c}' in metrics else '-'
                  for c in columns]
        parts.append('<tr>' + ''.join(f'<td>{c}</td>' for c in cells) + '</tr>')
    parts.append('</table>')
    parts.append('<p>mDice, mIoU, meanEm: means over 256 thresholds of the 8-bit map (the '
                 'published protocol). Dice@0.5 and each image\'s Dice: the deployed mask, '
                 'sigmoid(logits) &gt; 0.5.</p>')
    parts.append('<p class="legend">' + ''.join(
        f'<span><span class="swatch" style="background:{_hex(colour)}"></span>'
        f'{esc(label)}</span>' for label, colour in legend_items(True)) + '</p>')
    for dataset, items in groups.items():
        items.sort(key=lambda item: (item[0], item[1]))
        parts.append(f'<h2 id="{esc(dataset)}">{esc(dataset)}: {len(items)} images, worst '
                     'first</h2><div class="gallery">')
        for score, stem, relative in items:
            parts.append(f'<figure data-dice="{score:.6f}"><img src="{esc(relative)}" '
                         f'alt="{esc(stem)}" onerror="{ON_ERROR}"><figcaption>'
                         f'{esc(stem)}: Dice {score:.3f}</figcaption></figure>')
        parts.append('</div>')
    parts.append('</body></html>\n')
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, 'index.html')
    with open(path, 'w') as f:
        f.write('\n'.join(parts))
    return path

