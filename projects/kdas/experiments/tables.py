"""The Markdown tables of docs/results.md, drawn from a work root, and writing them between
the document's ``<!-- NAME:start -->`` / ``<!-- NAME:end -->`` markers.

Each table is a function of the work root only, so the same root always gives the same
bytes.
"""
import os
import re
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from ..utils.output_files import write_text
from .paired import paired_bootstrap, paired_differences
from .rows import STUDENT, TEACHERS, objective, objective_label, resolve_row, row_base, \
    row_precision
from .work_root import WorkRoot, loss_scales, seconds_per_iteration, training_seconds

DATASETS = (('Kvasir', 'Kvasir'), ('CVC-ClinicDB', 'ClinicDB'))  # (key, column prefix)
# (metric key, column name) of the two scores every summary table shows, in this order, so
# that a sentence can quote any two tables alike
SCORES = (('Dice@0.5', 'Dice@0.5'), ('meanDic', 'mDice'))
COLUMNS = (('meanDic', 'mDice'), ('meanIoU', 'mIoU'), ('wFm', 'wFm'), ('Sm', 'Sm'),
           ('meanEm', 'meanEm'), ('mae', 'MAE'), ('Dice@0.5', 'Dice@0.5'))
# Distillation terms of the loss table, as logged.
DISTILL_TERMS = (('distill.loss_at', 'L_AT'), ('distill.loss_sgm', 'L_SGM'),
                 ('distill.loss_pixel_kd', 'pixel KD'), ('distill.loss_cwd', 'CWD'))


def score_columns(columns=SCORES) -> str:
    return ' | '.join(f'{prefix} {col}' for _, prefix in DATASETS for _, col in columns)


def results_table(root: WorkRoot) -> str:
    """Every row: its training time, s/iter and all seven scores on both test sets."""
    lines = [f'| row | train wall time | s/iter | {score_columns(COLUMNS)} |',
             '|' + '---|' * (3 + 2 * len(COLUMNS))]
    for name in root.rows():
        label = resolve_row(name).label
        if not root.is_tested(name):
            lines.append(f'| {label} | not run | - | ' + ' | '.join(['-'] * 2 * len(COLUMNS)) +
                         ' |')
            continue
        result = root.scores(name)
        work = root.row_dir(name)
        cells = [f'{training_seconds(work) / 60:.0f} min', f'{seconds_per_iteration(work):.2f}']
        cells += [f'{result[ds][key]:.3f}' for ds, _ in DATASETS for key, _ in COLUMNS]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def loss_table(root: WorkRoot) -> str:
    """How large each term is against the segmentation loss, per row."""
    lines = ['| row | epoch | L_seg (P1 + P2) | ' + ' | '.join(t for _, t in DISTILL_TERMS) +
             ' | total |', '|---|---|---|' + '---|' * len(DISTILL_TERMS)]
    for name in root.rows():
        label = resolve_row(name).label
        work = root.row_dir(name)
        scales = loss_scales(work) if os.path.isdir(work) else None
        if scales is None:
            continue
        for which in ('first', 'last'):
            s = scales[which]
            seg = s.get('decode.loss_structure_p1', 0) + s.get('decode.loss_structure_p2', 0)
            terms = [s.get(k) for k, _ in DISTILL_TERMS]
            cells = ['-' if t is None else f'{t:.3f}' for t in terms]
            lines.append(f'| {label} | {s["epoch"]} | {seg:.3f} | ' + ' | '.join(cells) +
                         f' | {s["loss"]:.3f} |')
    return '\n'.join(lines)


def seeds_table(root: WorkRoot) -> str:
    """Mean and spread (half the range) over the seeds of each objective with two or more."""
    lines = paired_header('objective')
    for base, names in root.tested_by_objective().items():
        if base in TEACHERS or len(names) < 2:
            continue
        results = [root.scores(n) for n in names]
        cells = []
        for ds, _ in DATASETS:
            for key, _ in SCORES:
                values = [r[ds][key] for r in results]
                cells.append(f'{statistics.mean(values):.3f} +- '
                             f'{(max(values) - min(values)) / 2:.3f}')
        seeds = ', '.join(str(row_base(n)[1]) for n in names)
        lines.append(f'| {objective_label(names[0])} | {seeds} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def paired_header(title: str) -> List[str]:
    return [f'| {title} | seeds | {score_columns()} |', '|---|---|' + '---|' * 4]


def paired_row(label: str, seeds: Dict[int, dict], others: Dict[int, dict],
               draws: int) -> Optional[str]:
    """``label`` minus ``others`` per image over their shared seeds (Dice@0.5, mDice), each
    with its 95 % paired bootstrap interval; None when they share no seed."""
    shared = sorted(set(seeds) & set(others))
    if not shared:
        return None
    cells = []
    for ds, _ in DATASETS:
        for key, _ in SCORES:
            diffs = paired_differences([seeds[k][ds] for k in shared],
                                       [others[k][ds] for k in shared], key)
            mean, low, high = paired_bootstrap(diffs, draws=draws)
            cells.append(f'{mean:+.3f} [{low:+.3f}, {high:+.3f}]')
    return f'| {label} | {", ".join(map(str, shared))} | ' + ' | '.join(cells) + ' |'


def unpaired_row(label: str, why: str) -> str:
    """A comparison's line without figures, saying why."""
    return f'| {label} | {why} |' + ' - |' * 4


def comparison_table(root: WorkRoot, draws: int = 10000) -> str:
    """Each objective against its baseline (``Row.baseline``: the same student alone, at the
    same learning rate): the mean per-image difference (Dice@0.5, mDice) with its 95 %
    paired bootstrap interval over images and shared seeds. A row whose baseline is not the
    PVTv2-B0 student alone names it; one whose baseline is not tested, or shares no seed
    with it, says so."""
    per_image = root.per_image_scores()
    lines = paired_header('objective vs student alone')
    for base, seeds in per_image.items():
        baseline = resolve_row(base).baseline
        if base == STUDENT:
            continue
        label = objective_label(base)
        if baseline != STUDENT:
            label += f' vs {objective_label(baseline)}'
        if baseline in per_image:
            lines.append(paired_row(label, seeds, per_image[baseline], draws) or
                         unpaired_row(label, 'no seed in common'))
        else:
            lines.append(unpaired_row(label, 'baseline not tested'))
    return '\n'.join(lines)


def pairs_table(root: WorkRoot, pairs: Sequence[Tuple[str, str]], draws: int = 10000) -> str:
    """Objective A minus objective B per image over their shared seeds, for each (A, B) of
    ``pairs`` (objective names: ``cwd-mobilenetv2-lr1e3``, ``student-lr1e3``): any two rows,
    whatever their students or seeds. An objective not tested, or no seed in common, says
    so."""
    per_image = root.per_image_scores()
    lines = paired_header('objective vs objective')
    for a, b in pairs:
        label = f'{objective_label(a)} vs {objective_label(b)}'
        missing = [name for name in (a, b) if name not in per_image]
        if missing:
            lines.append(unpaired_row(label, f'{" and ".join(missing)} not tested'))
        else:
            lines.append(paired_row(label, per_image[a], per_image[b], draws) or
                         unpaired_row(label, 'no seed in common'))
    return '\n'.join(lines)


def head_to_head_table(root: WorkRoot, draws: int = 10000, final_seeds: int = 3) -> str:
    """The objectives of the final comparison (``final_seeds`` seeds or more: distillation
    objectives, and students alone of another architecture or learning rate) against each
    other, the higher mean Dice@0.5 first, so that a verdict that names one of them rests on
    its own interval rather than on two intervals against the student alone."""
    final = {base: seeds for base, seeds in root.per_image_scores().items()
             if base != STUDENT and len(seeds) >= final_seeds}

    def mean_dice(seeds):
        return statistics.mean(statistics.mean(s['Dice@0.5'] for s in seeds[k][ds].values())
                               for k in seeds for ds, _ in DATASETS)

    ranked = sorted(final, key=lambda b: -mean_dice(final[b]))
    lines = paired_header('objective vs objective')
    for i, better in enumerate(ranked):
        for worse in ranked[i + 1:]:
            label = f'{objective_label(better)} vs {objective_label(worse)}'
            line = paired_row(label, final[better], final[worse], draws)
            if line:
                lines.append(line)
    return '\n'.join(lines)


def precision_table(root: WorkRoot) -> str:
    """Each tested bf16 row beside the float32 rows of its objective: s/iter of the
    same-seed pair, and whether every bf16 score lies within the float32 seeds' range (the
    rule for training further rows in bf16)."""
    float32 = {}
    for name in root.rows():
        if root.is_tested(name) and name not in TEACHERS and not row_precision(name):
            float32.setdefault(objective(name), {})[resolve_row(name).seed] = name
    lines = ['| objective, seed | s/iter float32 / bf16 | ' + ' | '.join(
        f'{prefix} {col}: bf16 (float32 seeds)' for _, prefix in DATASETS
        for _, col in SCORES) + ' | bf16 within the float32 range |', '|---|---|' + '---|' * 5]
    for name in root.rows():
        if not (row_precision(name) and root.is_tested(name)):
            continue
        row = resolve_row(name)
        label, seed = row.label, row.seed
        rows = float32.get(objective(name), {})
        if not rows:
            continue
        bf16 = root.scores(name)
        results = [root.scores(n) for n in rows.values()]
        cells, within = [], True
        for ds, _ in DATASETS:
            for key, _ in SCORES:
                low, high = (f(r[ds][key] for r in results) for f in (min, max))
                within &= low <= bf16[ds][key] <= high
                cells.append(f'{bf16[ds][key]:.3f} ({low:.3f}-{high:.3f})')
        pair = rows.get(seed)
        # a tested row's folder exists (its scores are in it); no same-seed pair: nan
        times = [seconds_per_iteration(root.row_dir(n)) if n else float('nan')
                 for n in (pair, name)]
        speed = ' / '.join('-' if t != t else f'{t:.2f}' for t in times)
        label = re.sub(r', bf16 autocast \(seed \d+\)$', '', label)
        seeds = ', '.join(str(k) for k in sorted(rows))
        lines.append(f'| {label}, seed {seed} (float32 seeds {seeds}) | {speed} | ' +
                     ' | '.join(cells) + f' | {"yes" if within else "no"} |')
    return '\n'.join(lines)


def all_tables(root: WorkRoot) -> Dict[str, str]:
    """{marker name: table} of every table docs/results.md holds."""
    return {'results-table': results_table(root), 'loss-table': loss_table(root),
            'seeds-table': seeds_table(root), 'comparison-table': comparison_table(root),
            'head-to-head-table': head_to_head_table(root),
            'precision-table': precision_table(root)}


def update_doc(path: str, tables: Dict[str, str]) -> None:
    """Replaces the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` of each
    table; the document is replaced atomically, and not at all when a marker is missing."""
    with open(path) as f:
        text = f.read()
    for name, body in tables.items():
        start, end = f'<!-- {name}:start -->', f'<!-- {name}:end -->'
        if start not in text or end not in text:
            raise ValueError(f'{path} has no {start} ... {end} markers')
        head, rest = text.split(start, 1)
        text = f'{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}'
    write_text(path, text, what='document')
