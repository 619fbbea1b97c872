"""The folder that holds the experiment's rows, and what a row's folder holds.

``ROOT/NAME/`` is a row's work dir (one MMEngine run folder per training run, resumed ones
included, and ``last_checkpoint``); ``ROOT/NAME/test/`` holds its test scores
(``polyp_metrics.json``, and ``polyp_metrics_per_image.json`` for the paired statistics).
"""
import json
import os
import os.path as osp
import re
import statistics
import time
from typing import Dict, List, Optional

from ..utils.logs import read_scalars
from .rows import ROWS, TEACHERS, resolve_row, row_base

STAMP = re.compile(r'\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}')


class WorkRoot:

    def __init__(self, path: str):
        self.path = path

    def row_dir(self, name: str) -> str:
        return osp.join(self.path, name)

    def metrics_path(self, name: str, per_image: bool = False) -> str:
        return osp.join(self.path, name, 'test',
                        'polyp_metrics_per_image.json' if per_image else 'polyp_metrics.json')

    def is_tested(self, name: str) -> bool:
        return osp.isfile(self.metrics_path(name))

    def scores(self, name: str, per_image: bool = False) -> dict:
        with open(self.metrics_path(name, per_image)) as f:
            return json.load(f)

    def rows(self) -> List[str]:
        """ROWS, then every other tested row in the root, next to its objective."""
        names = list(ROWS)
        if osp.isdir(self.path):
            for entry in sorted(os.listdir(self.path)):
                if entry in names or not self.is_tested(entry):
                    continue
                try:
                    resolve_row(entry)
                except ValueError:
                    continue
                names.append(entry)
        order = {}
        for i, name in enumerate(names):
            order.setdefault(row_base(name)[0], i)
        return sorted(names, key=lambda n: (order[row_base(n)[0]], row_base(n)[1]))

    def tested_by_objective(self) -> Dict[str, List[str]]:
        """{objective: [its tested rows]}, in table order."""
        by_base = {}
        for name in self.rows():
            if self.is_tested(name):
                by_base.setdefault(row_base(name)[0], []).append(name)
        return by_base

    def per_image_scores(self) -> Dict[str, Dict[int, dict]]:
        """{objective: {seed: per-image scores}} of every tested student row."""
        per_image = {}
        for name in self.rows():
            if osp.isfile(self.metrics_path(name, per_image=True)) and name not in TEACHERS:
                base, seed = row_base(name)
                per_image.setdefault(base, {})[seed] = self.scores(name, per_image=True)
        return per_image


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``last_checkpoint`` names, when it exists."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            path = f.read().strip()
        return path if osp.isfile(path) else None
    return None


def training_seconds(work_dir: str) -> float:
    """Wall time of every training run in ``work_dir`` (resumed ones included), from the
    first and last time stamps of each MMEngine log: interrupted runs count too."""
    total = 0.
    for entry in sorted(os.listdir(work_dir)):
        log = osp.join(work_dir, entry, f'{entry}.log')
        if not osp.isfile(log):
            continue
        with open(log) as f:
            stamps = [m.group(0) for m in STAMP.finditer(f.read())]
        if len(stamps) > 1:
            first, last = (time.mktime(time.strptime(t, '%Y/%m/%d %H:%M:%S'))
                           for t in (stamps[0], stamps[-1]))
            total += last - first
    return total


def seconds_per_iteration(work_dir: str) -> float:
    """Median logged iteration time: unlike the wall time, unmoved by pauses."""
    times = [r['time'] for r in read_scalars(work_dir)[0]]
    return statistics.median(times) if times else float('nan')


def loss_scales(work_dir: str) -> Optional[dict]:
    """Mean of every logged loss term over the first and the last epoch of a row. The
    terms are logged as they enter the total, i.e. already weighted by (1 - alpha) or
    alpha."""
    records = read_scalars(work_dir)[0]
    if not records:
        return None
    epochs = sorted({r['epoch'] for r in records})
    scales = {}
    for which, epoch in (('first', epochs[0]), ('last', epochs[-1])):
        chosen = [r for r in records if r['epoch'] == epoch]
        keys = [k for k in chosen[0] if k.startswith(('loss', 'decode.loss', 'distill.loss'))]
        scales[which] = {k: sum(r[k] for r in chosen) / len(chosen) for k in keys}
        scales[which]['epoch'] = epoch
    return scales


def validation_curves(root: WorkRoot) -> Dict[str, tuple]:
    """label -> (epochs, {test set: mDice}) of every row validated at two epochs or more."""
    curves = {}
    for name in root.rows():
        work = root.row_dir(name)
        if not osp.isdir(work):
            continue
        records = [r for r in read_scalars(work)[1] if 'Kvasir/meanDic' in r]
        if len(records) >= 2:
            curves[resolve_row(name).label] = ([r['step'] for r in records], {
                ds: [r[f'{ds}/meanDic'] for r in records] for ds in ('Kvasir', 'CVC-ClinicDB')})
    return curves
