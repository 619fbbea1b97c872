"""A static HTML report of a test run: the summary table and every image's overlay, worst
first, per dataset. It opens from disk in a browser (no server, no network)."""
import hashlib
import html
import os
import os.path as osp
import re
from collections import OrderedDict
from urllib.parse import quote

import cv2
from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ..evaluation.report import SHORT_COLUMNS, display
from ..utils.image_files import read_image
from ..utils.output_files import OutputError, inside, write_image, write_text
from ..visualization import draw_overlay
from ..visualization.overlay import legend_items
from ..evaluation.protocol import dice

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


# Characters a path component cannot hold (a separator, NUL) or had better not (control
# characters).
UNSAFE_CHARACTERS = re.compile(r'[/\\\x00-\x1f\x7f]')
# Longest component kept as it is, in bytes: file systems allow 255, and the overlay's
# name adds an extension.
MAX_COMPONENT_BYTES = 200


def path_component(name: str) -> str:
    """``name`` as one file or folder name inside the report's folder.

    A name that is already one (no separator or control character, no leading dot, so
    neither ``.`` nor ``..``, valid UTF-8, not too long) is kept, so
    ``images/Kvasir/<stem>.jpg`` stays readable. Any other name is replaced by a cleaned,
    shortened form followed by a hash of the original, so that ``'../../x'`` cannot
    point outside the folder and two names that clean to the same text still get two
    folders.
    """
    name = str(name)
    try:
        size = len(name.encode('utf-8'))
    except UnicodeEncodeError:  # undecodable bytes of a file name (surrogate escapes)
        size = None
    if (name and size is not None and size <= MAX_COMPONENT_BYTES and
            not name.startswith('.') and not UNSAFE_CHARACTERS.search(name)):
        return name
    raw = name.encode('utf-8', 'surrogatepass')
    cleaned = UNSAFE_CHARACTERS.sub('_', raw.decode('utf-8', 'replace')).lstrip('.')
    digest = hashlib.sha1(raw).hexdigest()[:10]
    return f'{cleaned[:50] or "unnamed"}-{digest}'


def link(relative: str) -> str:
    """A path relative to the page as a URL path: each part percent-encoded, so that a
    ``#``, ``?``, ``%`` or space in a file name is part of the name, not of the URL's
    syntax."""
    return '/'.join(quote(part, safe='') for part in relative.replace(os.sep, '/').split('/'))


def _hex(bgr):
    b, g, r = bgr
    return f'#{r:02x}{g:02x}{b:02x}'


@HOOKS.register_module()
class PolypReportHook(Hook):
    """Writes ``out_dir/index.html`` and ``out_dir/images/<dataset>/<stem>.jpg`` after a
    test run. Each image's Dice is that of the deployed mask (``pred_sem_seg``), the
    figure the table calls Dice@0.5; the gallery of each dataset is sorted by it, worst
    first. Dataset names and stems become file names through :func:`path_component`,
    so every file lands inside ``out_dir`` whatever the names hold.

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
            image = read_image(path, what='image for the report')
            drawn = draw_overlay(image, pred, gt, legend=False)
            if drawn.shape[1] > self.max_width:
                height = round(drawn.shape[0] * self.max_width / drawn.shape[1])
                drawn = cv2.resize(drawn, (self.max_width, height),
                                   interpolation=cv2.INTER_AREA)
            relative = osp.join('images', path_component(dataset),
                                f'{path_component(stem)}.jpg')
            target = osp.join(self.out_dir, relative)
            # The names are made safe above; this catches a symlink inside out_dir that
            # leads out of it.
            if not inside(target, self.out_dir):
                raise OutputError(f'report image {target} would be written outside the '
                                  f'report folder {self.out_dir}')
            write_image(target, drawn, [cv2.IMWRITE_JPEG_QUALITY, 88], what='report image')
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
    of ``records`` [(dataset, stem, dice, image path relative to out_dir)]. Image links
    are percent-encoded (see :func:`link`) and HTML-escaped; the page is written
    atomically."""
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
        cells = [f'<a href="#{esc(quote(dataset, safe=""))}">{esc(dataset)}</a>',
                 str(len(items))]
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
            parts.append(f'<figure data-dice="{score:.6f}"><img src="{esc(link(relative))}" '
                         f'alt="{esc(stem)}" onerror="{ON_ERROR}"><figcaption>'
                         f'{esc(stem)}: Dice {score:.3f}</figcaption></figure>')
        parts.append('</div>')
    parts.append('</body></html>\n')
    return write_text(osp.join(out_dir, 'index.html'), '\n'.join(parts), what='report page')

