"""The figures of docs/results.md, drawn from a work root: the loss curves of every tested
row (results_curves.png), the scores per objective over its seeds (results_bars.png) and
validation mDice over epochs (results_validation.png)."""
import itertools
import os
import os.path as osp
import re
import statistics
from typing import List, Optional

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from ..visualization.training_curves import plot, save_figure, series  # noqa: E402
from .rows import STUDENT, TEACHERS, objective_label, resolve_row  # noqa: E402
from .tables import DATASETS  # noqa: E402
from .work_root import WorkRoot, validation_curves  # noqa: E402


def draw_figures(root: WorkRoot, out_dir: str) -> List[str]:
    """Every figure, into ``out_dir``; the paths drawn (none when no row is tested)."""
    os.makedirs(out_dir, exist_ok=True)
    tested = [(name, resolve_row(name).label) for name in root.rows() if root.is_tested(name)]
    if not tested:
        return []
    runs = [(label, *series(root.row_dir(name), losses=['loss'])) for name, label in tested]
    curves = osp.join(out_dir, 'results_curves.png')
    plot(runs, curves, width=11., height=5.)
    bars = bars_figure(root, out_dir)
    validation = validation_figure(root, out_dir)
    return [curves, bars] + ([validation] if validation else [])


def bars_figure(root: WorkRoot, out_dir: str) -> str:
    """results_bars.png: Dice@0.5 per objective, a bar at the mean of its seeds and a dot per
    seed, against the student alone's seed range (the band), one panel per test set."""
    objectives = {base: (objective_label(names[0]), [root.scores(n) for n in names])
                  for base, names in root.tested_by_objective().items()}
    labels = [f'{label} ({len(results)} seeds)' if len(results) > 1 else label
              for label, results in objectives.values()]
    fig, axes = plt.subplots(1, 2, figsize=(12, 1.2 + 0.32 * len(objectives)), dpi=100,
                             sharey=True)
    for ax, (ds, _) in zip(axes, DATASETS):
        if STUDENT in objectives:
            student = [r[ds]['Dice@0.5'] for r in objectives[STUDENT][1]]
            ax.axvspan(min(student), max(student), color='0.3', alpha=0.2, zorder=3, lw=0,
                       label="the student alone's seed range")
        final = itertools.cycle(f'C{i}' for i in (1, 2, 3, 4, 5, 6, 8, 9))
        for y, (base, (label, results)) in enumerate(objectives.items()):
            values = [r[ds]['Dice@0.5'] for r in results]
            # the roles at a glance: teachers grey, the student blue, each objective with
            # several seeds its own colour, one-seed screens all alike
            color = ('0.55' if base in TEACHERS else 'C0' if base == STUDENT else
                     next(final) if len(results) > 1 else 'tan')
            ax.barh(y, statistics.mean(values), height=0.6, color=color, alpha=0.6)
            ax.plot(values, [y] * len(values), 'o', color=color, ms=4)
        ax.set(title=ds, xlim=(0.4, 0.85), xlabel='Dice@0.5')
        ax.grid(axis='x', alpha=0.3)
    axes[0].set_yticks(range(len(labels)), labels, fontsize=8)
    axes[0].invert_yaxis()
    axes[1].legend(fontsize=8, loc='lower right')
    fig.suptitle('Test scores per objective: bar = mean over its seeds, dots = seeds', fontsize=10)
    fig.tight_layout()
    return save_figure(fig, osp.join(out_dir, 'results_bars.png'))


def validation_figure(root: WorkRoot, out_dir: str) -> Optional[str]:
    """results_validation.png: validation mDice over epochs per row (validation_curves),
    or None when no row was validated more than once."""
    curves = validation_curves(root)
    if not curves:
        return None
    # one colour per objective, its seeds in that colour: a reader compares objectives,
    # and sees the seed spread as the width of a colour's band
    objectives = {}
    for label in curves:
        match = re.fullmatch(r'(.*) \(seed (\d+)\)', label)
        base, seed = (match.group(1), int(match.group(2))) if match else (label, 0)
        objectives.setdefault(base, []).append((seed, label))
    fig, axes = plt.subplots(1, 2, figsize=(12, 6.5), dpi=100, sharey=True)
    for ax, (ds, _) in zip(axes, DATASETS):
        for i, (base, seeds) in enumerate(objectives.items()):
            for j, (seed, label) in enumerate(sorted(seeds)):
                epochs, scores = curves[label]
                # ten colours, then the same colours dashed: no two objectives look alike
                ax.plot(epochs, scores[ds], marker='o', ms=3, color=f'C{i % 10}',
                        linestyle=('-', '--', ':')[i // 10 % 3], lw=1.5,
                        label=None if j else
                        f'{base} (seed{"s" if len(seeds) > 1 else ""} '
                        f'{", ".join(str(s) for s, _ in sorted(seeds))})')
        ax.set(title=f'{ds}: validation mDice', xlabel='epoch')
        ax.grid(alpha=0.3)
    axes[0].set_ylabel('mDice')
    fig.legend(*axes[0].get_legend_handles_labels(), loc='lower center', ncol=2, fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.03 * (len(objectives) + 1) / 2 + 0.02, 1, 1))
    os.makedirs(out_dir, exist_ok=True)
    return save_figure(fig, osp.join(out_dir, 'results_validation.png'))
