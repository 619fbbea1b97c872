"""Train and evaluate every row of docs/results.md under the CPU budget, resumably.

    python tools/analysis_tools/reproduce_results.py --data-root ../shared/data/polyp \
        --work-root ~/.cache/kdas/results [--rows teacher student-s0 ...] [--table-only]
        [--update-doc docs/results.md] [--figures docs/figures] [--threads 1]

A row is a name of ``ROWS``; ``NAME-sK`` runs a row's objective with seed K (e.g.
``balanced-s1``, ``student-s2``), so any objective can get the seeds of the final comparison;
``NAME-bf16`` / ``NAME-bf16-sK`` trains it under bfloat16 autocast (``tools/train.py --amp``).
Rows are tested with per-image scores; a finished row without them is re-tested (a minute).
The tables then give, per objective, the mean and spread over its seeds and a paired
bootstrap interval of its per-image difference to the student alone
(kdas.evaluation.paired), over the seeds both have.

Rows run one after another; each trains with tools/train.py (resuming from its last
checkpoint when interrupted), is tested with tools/test.py, and records its wall time. Run
it again after an interruption: finished rows are skipped. Several instances may share a
work root (e.g. two lanes with ``--threads 1`` on a 2-core machine): a row being trained
by a live instance is locked and the others move on to the next row. At the end (or with
--table-only) it prints the Markdown table of every finished row, with its logs' paths.
"""
import argparse
import itertools
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time

STAMP = re.compile(r'\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}')
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEACHER = 'teacher'
TEACHER30 = 'teacher30'
TEACHERS = (TEACHER, TEACHER30)
# name: (label, config, seed, the teacher row it distils from, or None)
ROWS = {
    TEACHER: ('Teacher: Polyp-PVT PVTv2-B2 (10 epochs)',
              'configs/budget/polyppvt_pvtv2b2_budget.py', 0, None),
    'student-s0': ('Student alone, PVTv2-B0 (seed 0)',
                   'configs/budget/polyppvt_pvtv2b0_budget.py', 0, None),
    'student-s1': ('Student alone, PVTv2-B0 (seed 1)',
                   'configs/budget/polyppvt_pvtv2b0_budget.py', 1, None),
    'kdas-s0': ('KDAS as the paper defines it (seed 0)', 'configs/budget/kdas_pvtv2b0_budget.py',
                0, TEACHER),
    'kdas-s1': ('KDAS as the paper defines it (seed 1)', 'configs/budget/kdas_pvtv2b0_budget.py',
                1, TEACHER),
    'publiccode': ("Public code's effective objective (MSE SGM on P1, unweighted BCE)",
                   'configs/budget/kdas-publiccode_pvtv2b0_budget.py', 0, TEACHER),
    'atonly': ('L_AT only', 'configs/budget/kdas-atonly_pvtv2b0_budget.py', 0, TEACHER),
    'sgmonly': ('L_SGM only (KL)', 'configs/budget/kdas-sgmonly_pvtv2b0_budget.py', 0, TEACHER),
    # Objectives tried to make distillation pay under this budget (seed 0 first).
    'alpha01': ('KDAS, alpha 0.1', 'configs/budget/kdas-alpha01_pvtv2b0_budget.py', 0, TEACHER),
    'balanced': ('KDAS, terms balanced to L_seg', 'configs/budget/kdas-balanced_pvtv2b0_budget.py',
                 0, TEACHER),
    'warmup': ('KDAS, alpha warm-up (3 epochs)', 'configs/budget/kdas-warmup_pvtv2b0_budget.py',
               0, TEACHER),
    'pixelkd': ('Pixel-wise response KD (P1, P2)', 'configs/budget/pixelkd_pvtv2b0_budget.py', 0,
                TEACHER),
    'cwd': ('Channel-wise distillation (decoder features)', 'configs/budget/cwd_pvtv2b0_budget.py',
            0, TEACHER),
    'cwdpix': ('Channel-wise distillation + pixel-wise response KD',
               'configs/budget/cwd-pixelkd_pvtv2b0_budget.py', 0, TEACHER),
    # A stronger teacher: the same B2 trained 30 epochs, and objectives distilled from it.
    # The measured teacher was trained on a lent H200 (docs/results.md): its times are the
    # GPU's.
    TEACHER30: ('Teacher: Polyp-PVT PVTv2-B2 (30 epochs; trained on an H200)',
                'configs/budget/polyppvt_pvtv2b2-30e_budget.py', 0, None),
    'kdas-t30': ('KDAS from the 30-epoch teacher', 'configs/budget/kdas_pvtv2b0_budget.py', 0,
                 TEACHER30),
    'balanced-t30': ('KDAS balanced, from the 30-epoch teacher',
                     'configs/budget/kdas-balanced_pvtv2b0_budget.py', 0, TEACHER30),
    'pixelkd-t30': ('Pixel-wise response KD, from the 30-epoch teacher',
                    'configs/budget/pixelkd_pvtv2b0_budget.py', 0, TEACHER30),
    'cwd-t30': ('Channel-wise distillation, from the 30-epoch teacher',
                'configs/budget/cwd_pvtv2b0_budget.py', 0, TEACHER30),
}
# Rows validated after every epoch (the validation-over-epochs figure): the objectives of
# the "distillation that pays" comparison and every seed from 2 on. The earlier rows were
# validated at the end only, and trained before IterationSeedHook / EpochSeededSampler, when
# validating drew from the training's random stream: they keep that schedule.
VALIDATED_EVERY_EPOCH = ('alpha01', 'balanced', 'warmup', 'pixelkd', 'cwd', 'cwdpix', 'kdas-t30',
                         'balanced-t30', 'pixelkd-t30', 'cwd-t30')
SEEDED = re.compile(r'^(.+)-s(\d+)$')
# (metric key, column name) of the two scores every summary table shows, in this order, so
# that a sentence can quote any two tables alike
SCORES = (('Dice@0.5', 'Dice@0.5'), ('meanDic', 'mDice'))
BF16 = '-bf16'
STUDENT = 'student'


def row_base(name):
    """(objective, seed) of a row name: ``kdas-s1`` -> (``kdas``, 1); no suffix: seed 0."""
    match = SEEDED.match(name)
    return (match.group(1), int(match.group(2))) if match else (name, 0)


def objective(name):
    """The ROWS objective of a row name, without seed and precision: ``kdas-bf16-s1`` ->
    ``kdas``."""
    base = row_base(name)[0]
    return base[:-len(BF16)] if base.endswith(BF16) else base


def row_precision(name):
    """``'bf16'`` for a ``NAME-bf16[-sK]`` row (trained under autocast), else None."""
    return 'bf16' if row_base(name)[0].endswith(BF16) else None


def objective_label(name):
    """A row's label without its seed: the objective it measures (``name`` a row or an
    objective: ``cwd-s2``, ``cwd``, ``student``)."""
    return re.sub(r' \(seed \d+\)$', '', resolve_row(name)[0])


def resolve_row(name):
    """(label, config, seed, teacher row) of a ROWS name or of ``ROWNAME[-bf16][-sK]``."""
    if name in ROWS:
        return ROWS[name]
    base, seed = row_base(name)
    precision = ', bf16 autocast' if row_precision(name) else ''
    for known, (label, config, _seed, teacher) in ROWS.items():
        if row_base(known)[0] == objective(name) and known not in TEACHERS:
            return (objective_label(known) + f'{precision} (seed {seed})', config, seed,
                    teacher)
    raise ValueError(f'unknown row {name!r}: use one of {", ".join(ROWS)}, or NAME-sK for a '
                     'seed K of one of them')


def table_rows(args):
    """ROWS, then every other finished row in the work root, next to its objective."""
    names = list(ROWS)
    if osp.isdir(args.work_root):
        for entry in sorted(os.listdir(args.work_root)):
            if entry in names or not osp.isfile(metrics_path(args, entry)):
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


def metrics_path(args, name, per_image=False):
    return osp.join(args.work_root, name, 'test',
                    'polyp_metrics_per_image.json' if per_image else 'polyp_metrics.json')


# Distillation terms of the loss table, as logged.
DISTILL_TERMS = (('distill.loss_at', 'L_AT'), ('distill.loss_sgm', 'L_SGM'),
                 ('distill.loss_pixel_kd', 'pixel KD'), ('distill.loss_cwd', 'CWD'))
COLUMNS = (('meanDic', 'mDice'), ('meanIoU', 'mIoU'), ('wFm', 'wFm'), ('Sm', 'Sm'),
           ('meanEm', 'meanEm'), ('mae', 'MAE'), ('Dice@0.5', 'Dice@0.5'))


def last_checkpoint(work_dir):
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        path = open(marker).read().strip()
        return path if osp.isfile(path) else None
    return None


def claim(work):
    """Takes the row's lock file; False while another live instance holds it."""
    lock = osp.join(work, 'row.lock')
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                holder = int(open(lock).read().strip() or 0)
                os.kill(holder, 0)
                return False  # held by a live process
            except (ValueError, ProcessLookupError):
                os.remove(lock)  # left by a killed instance
                continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True


def run_row(name, args):
    work = osp.join(args.work_root, name)
    metrics = metrics_path(args, name)
    if osp.isfile(metrics):
        if not osp.isfile(metrics_path(args, name, per_image=True)):
            print(f'[{name}] re-testing for per-image scores')
            test_row(name, work, args)
        print(f'[{name}] done already ({metrics})')
        return
    os.makedirs(work, exist_ok=True)
    if not claim(work):
        print(f'[{name}] being trained by another instance, skipped')
        return
    try:
        train_and_test(name, work, args)
    finally:
        os.remove(osp.join(work, 'row.lock'))


def train_and_test(name, work, args):
    _label, config, seed, teacher_row = resolve_row(name)
    options = [f'randomness.seed={seed}'] + [
        f'{loader}.dataset.data_root={args.data_root}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    if objective(name) in VALIDATED_EVERY_EPOCH or row_base(name)[1] >= 2:
        options.append('train_cfg.val_interval=1')
    if teacher_row:
        teacher = last_checkpoint(osp.join(args.work_root, teacher_row))
        if not osp.isfile(metrics_path(args, teacher_row)):
            sys.exit(f'[{name}] needs the finished {teacher_row} row first')
        options.append(f'model.teacher_checkpoint={teacher}')
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work, '--cfg-options',
           *options]
    if row_precision(name):
        cmd += ['--amp', row_precision(name)]
    if last_checkpoint(work):
        cmd.append('--resume')
    print(f'[{name}] {" ".join(cmd)}', flush=True)
    subprocess.run(cmd, cwd=REPO, check=True, env=thread_env(args))
    test_row(name, work, args)


def thread_env(args):
    return dict(os.environ, OMP_NUM_THREADS=str(args.threads)) if args.threads else None


def test_row(name, work, args):
    config = resolve_row(name)[1]
    subprocess.run([sys.executable, 'tools/test.py', config, last_checkpoint(work),
                    '--work-dir', osp.join(work, 'test'), '--per-image', '--cfg-options',
                    f'test_dataloader.dataset.data_root={args.data_root}'],
                   cwd=REPO, check=True, env=thread_env(args))


def training_seconds(work_dir):
    """Wall time of every training run in ``work_dir`` (resumed ones included), from the
    first and last time stamps of each MMEngine log: interrupted runs count too."""
    total = 0.
    for entry in sorted(os.listdir(work_dir)):
        log = osp.join(work_dir, entry, f'{entry}.log')
        if not osp.isfile(log):
            continue
        stamps = [m.group(0) for m in STAMP.finditer(open(log).read())]
        if len(stamps) > 1:
            first, last = (time.mktime(time.strptime(t, '%Y/%m/%d %H:%M:%S'))
                           for t in (stamps[0], stamps[-1]))
            total += last - first
    return total


def training_records(work_dir):
    """The training log records of every run of a row, resumed ones included."""
    from kdas.utils import read_scalars
    return read_scalars(work_dir)[0]


def seconds_per_iteration(work_dir):
    """Median logged iteration time: unlike the wall time, unmoved by pauses."""
    times = [r['time'] for r in training_records(work_dir)]
    return statistics.median(times) if times else float('nan')


def loss_scales(work_dir):
    """Mean of every logged loss term over the first and the last epoch of a row. The
    terms are logged as they enter the total, i.e. already weighted by (1 - alpha) or
    alpha."""
    records = training_records(work_dir)
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


def loss_table(args):
    """How large each term is against the segmentation loss, per row."""
    lines = ['| row | epoch | L_seg (P1 + P2) | ' + ' | '.join(t for _, t in DISTILL_TERMS) +
             ' | total |', '|---|---|---|' + '---|' * len(DISTILL_TERMS)]
    for name in table_rows(args):
        label = resolve_row(name)[0]
        work = osp.join(args.work_root, name)
        scales = loss_scales(work) if osp.isdir(work) else None
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


def table(args):
    lines = ['| row | train wall time | s/iter | ' + ' | '.join(
        f'{ds} {col}' for ds in ('Kvasir', 'ClinicDB') for _, col in COLUMNS) + ' |']
    lines.append('|' + '---|' * (3 + 2 * len(COLUMNS)))
    for name in table_rows(args):
        label = resolve_row(name)[0]
        path = metrics_path(args, name)
        if not osp.isfile(path):
            lines.append(f'| {label} | not run | - | ' + ' | '.join(['-'] * 2 * len(COLUMNS)) +
                         ' |')
            continue
        result = json.load(open(path))
        work = osp.join(args.work_root, name)
        cells = [f'{training_seconds(work) / 60:.0f} min', f'{seconds_per_iteration(work):.2f}']
        cells += [f'{result[ds][key]:.3f}' for ds in ('Kvasir', 'CVC-ClinicDB')
                  for key, _ in COLUMNS]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def figures(args, out_dir):
    """The loss curves of every finished row and a bar chart of its scores, as PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from plot_curves import plot, series
    os.makedirs(out_dir, exist_ok=True)
    finished = [(name, resolve_row(name)[0]) for name in table_rows(args)
                if osp.isfile(metrics_path(args, name))]
    if not finished:
        return []
    runs = [(label, *series(osp.join(args.work_root, name), losses=['loss']))
            for name, label in finished]
    curves = osp.join(out_dir, 'results_curves.png')
    plot(runs, curves, width=11., height=5.)
    bars = bars_figure(args, out_dir)
    validation = validation_figure(args, out_dir)
    return [curves, bars] + ([validation] if validation else [])


def bars_figure(args, out_dir):
    """results_bars.png: Dice@0.5 per objective, a bar at the mean of its seeds and a dot per
    seed, against the student alone's seed range (the band), one panel per test set."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    objectives = {base: (objective_label(names[0]),
                         [json.load(open(metrics_path(args, n))) for n in names])
                  for base, names in finished_by_objective(args).items()}
    labels = [f'{label} ({len(results)} seeds)' if len(results) > 1 else label
              for label, results in objectives.values()]
    fig, axes = plt.subplots(1, 2, figsize=(12, 1.2 + 0.32 * len(objectives)), dpi=100,
                             sharey=True)
    for ax, ds in zip(axes, ('Kvasir', 'CVC-ClinicDB')):
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
    path = osp.join(out_dir, 'results_bars.png')
    fig.savefig(path)
    plt.close(fig)
    return path


def validation_curves(args):
    """label -> (epochs, {test set: mDice}) of every row validated at two epochs or more."""
    from kdas.utils import read_scalars
    curves = {}
    for name in table_rows(args):
        work = osp.join(args.work_root, name)
        if not osp.isdir(work):
            continue
        records = [r for r in read_scalars(work)[1] if 'Kvasir/meanDic' in r]
        if len(records) >= 2:
            curves[resolve_row(name)[0]] = ([r['step'] for r in records], {
                ds: [r[f'{ds}/meanDic'] for r in records] for ds in ('Kvasir', 'CVC-ClinicDB')})
    return curves


def validation_figure(args, out_dir):
    """results_validation.png: validation mDice over epochs per row (validation_curves),
    or None when no row was validated more than once."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    curves = validation_curves(args)
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
    for ax, ds in zip(axes, ('Kvasir', 'CVC-ClinicDB')):
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
    path = osp.join(out_dir, 'results_validation.png')
    fig.savefig(path)
    plt.close(fig)
    return path


def finished_by_objective(args):
    """{objective: [its tested rows]}, in table order."""
    by_base = {}
    for name in table_rows(args):
        if osp.isfile(metrics_path(args, name)):
            by_base.setdefault(row_base(name)[0], []).append(name)
    return by_base


def seeds_table(args):
    """Mean and spread (half the range) over the seeds of each objective with two or more."""
    by_base = {base: names for base, names in finished_by_objective(args).items()
               if base not in TEACHERS}
    lines = ['| objective | seeds | ' + ' | '.join(f'{ds} {col}' for ds in ('Kvasir', 'ClinicDB')
                                                 for _, col in SCORES) + ' |',
             '|---|---|' + '---|' * 4]
    for base, names in by_base.items():
        if len(names) < 2:
            continue
        results = [json.load(open(metrics_path(args, n))) for n in names]
        cells = []
        for ds in ('Kvasir', 'CVC-ClinicDB'):
            for key, _ in SCORES:
                values = [r[ds][key] for r in results]
                cells.append(f'{statistics.mean(values):.3f} +- '
                             f'{(max(values) - min(values)) / 2:.3f}')
        label = objective_label(names[0])
        seeds = ', '.join(str(row_base(n)[1]) for n in names)
        lines.append(f'| {label} | {seeds} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def per_image_scores(args):
    """{objective: {seed: per-image scores}} of every tested student row."""
    per_image = {}
    for name in table_rows(args):
        path = metrics_path(args, name, per_image=True)
        if osp.isfile(path) and name not in TEACHERS:
            base, seed = row_base(name)
            per_image.setdefault(base, {})[seed] = json.load(open(path))
    return per_image


def paired_row(label, seeds, others, draws):
    """``label`` minus ``others`` per image over their shared seeds (Dice@0.5, mDice), each
    with its 95 % paired bootstrap interval; None when they share no seed."""
    from kdas.evaluation.paired import paired_bootstrap, paired_differences
    shared = sorted(set(seeds) & set(others))
    if not shared:
        return None
    cells = []
    for ds in ('Kvasir', 'CVC-ClinicDB'):
        for key, _ in SCORES:
            diffs = paired_differences([seeds[k][ds] for k in shared],
                                       [others[k][ds] for k in shared], key)
            mean, low, high = paired_bootstrap(diffs, draws=draws)
            cells.append(f'{mean:+.3f} [{low:+.3f}, {high:+.3f}]')
    return f'| {label} | {", ".join(map(str, shared))} | ' + ' | '.join(cells) + ' |'


def paired_header(title):
    return [f'| {title} | seeds | ' + ' | '.join(
        f'{ds} {col}' for ds in ('Kvasir', 'ClinicDB') for _, col in SCORES) + ' |',
        '|---|---|' + '---|' * 4]


def comparison_table(args, draws=10000):
    """Each objective against the student alone: the mean per-image difference (Dice@0.5,
    mDice) with its 95 % paired bootstrap interval over images and shared seeds."""
    per_image = per_image_scores(args)
    student = per_image.get(STUDENT, {})
    lines = paired_header('objective vs student alone')
    for base, seeds in per_image.items():
        if base == STUDENT:
            continue
        line = paired_row(objective_label(base), seeds, student, draws)
        if line:
            lines.append(line)
    return '\n'.join(lines)


def head_to_head_table(args, draws=10000, final_seeds=3):
    """The distillation objectives of the final comparison (``final_seeds`` seeds or more)
    against each other, the higher mean Dice@0.5 first, so a verdict that names one of
    them rests on its own interval rather than on two intervals against the student."""
    per_image = per_image_scores(args)
    final = {base: seeds for base, seeds in per_image.items()
             if base != STUDENT and len(seeds) >= final_seeds}

    def mean_dice(seeds):
        return statistics.mean(statistics.mean(s['Dice@0.5'] for s in seeds[k][ds].values())
                               for k in seeds for ds in ('Kvasir', 'CVC-ClinicDB'))

    ranked = sorted(final, key=lambda b: -mean_dice(final[b]))
    lines = paired_header('objective vs objective')
    for i, better in enumerate(ranked):
        for worse in ranked[i + 1:]:
            label = f'{objective_label(better)} vs {objective_label(worse)}'
            line = paired_row(label, final[better], final[worse], draws)
            if line:
                lines.append(line)
    return '\n'.join(lines)


def precision_table(args):
    """Each finished bf16 row beside the float32 rows of its objective: s/iter of the
    same-seed pair, and whether every bf16 score lies within the float32 seeds' range (the
    rule for training further rows in bf16)."""
    float32 = {}
    for name in table_rows(args):
        if osp.isfile(metrics_path(args, name)) and name not in TEACHERS \
                and not row_precision(name):
            float32.setdefault(objective(name), {})[resolve_row(name)[2]] = name
    lines = ['| objective, seed | s/iter float32 / bf16 | ' + ' | '.join(
        f'{ds} {col}: bf16 (float32 seeds)' for ds in ('Kvasir', 'ClinicDB')
        for _, col in SCORES) + ' | bf16 within the float32 range |', '|---|---|' + '---|' * 5]
    for name in table_rows(args):
        if not (row_precision(name) and osp.isfile(metrics_path(args, name))):
            continue
        label, _, seed, _ = resolve_row(name)
        rows = float32.get(objective(name), {})
        if not rows:
            continue
        bf16 = json.load(open(metrics_path(args, name)))
        results = [json.load(open(metrics_path(args, n))) for n in rows.values()]
        cells, within = [], True
        for ds in ('Kvasir', 'CVC-ClinicDB'):
            for key, _ in SCORES:
                low, high = (f(r[ds][key] for r in results) for f in (min, max))
                within &= low <= bf16[ds][key] <= high
                cells.append(f'{bf16[ds][key]:.3f} ({low:.3f}-{high:.3f})')
        pair = rows.get(seed)
        # a finished row's directory exists (its metrics are in it); no same-seed pair: nan
        times = [seconds_per_iteration(osp.join(args.work_root, n)) if n else float('nan')
                 for n in (pair, name)]
        speed = ' / '.join('-' if t != t else f'{t:.2f}' for t in times)
        label = re.sub(r', bf16 autocast \(seed \d+\)$', '', label)
        seeds = ', '.join(str(k) for k in sorted(rows))
        lines.append(f'| {label}, seed {seed} (float32 seeds {seeds}) | {speed} | ' +
                     ' | '.join(cells) + f' | {"yes" if within else "no"} |')
    return '\n'.join(lines)


def update_doc(path, tables):
    """Replaces the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``."""
    text = open(path).read()
    for name, body in tables.items():
        start, end = f'<!-- {name}:start -->', f'<!-- {name}:end -->'
        if start not in text or end not in text:
            sys.exit(f'error: {path} has no {start} ... {end} markers')
        head, rest = text.split(start, 1)
        text = f'{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}'
    with open(path, 'w') as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', required=True)
    parser.add_argument('--work-root', default=osp.expanduser('~/.cache/kdas/results'))
    parser.add_argument('--rows', nargs='+', default=list(ROWS),
                        help='rows to run (default: every row of ROWS); NAME-sK: seed K')
    parser.add_argument('--table-only', action='store_true')
    parser.add_argument('--update-doc', metavar='MD',
                        help='write the tables into MD between its marker comments '
                        '(docs/results.md)')
    parser.add_argument('--figures', metavar='DIR',
                        help='also draw results_curves.png, results_bars.png and '
                        'results_validation.png into DIR '
                        '(docs/figures)')
    parser.add_argument('--threads', type=int,
                        help='CPU threads per training run (OMP_NUM_THREADS); default: all')
    args = parser.parse_args()
    args.data_root = osp.abspath(args.data_root)
    for name in args.rows:
        try:
            resolve_row(name)
        except ValueError as err:
            parser.error(str(err))
    if not args.table_only:
        for name in args.rows:
            run_row(name, args)
    tables = {'results-table': table(args), 'loss-table': loss_table(args),
              'seeds-table': seeds_table(args), 'comparison-table': comparison_table(args),
              'head-to-head-table': head_to_head_table(args),
              'precision-table': precision_table(args)}
    print('\n\n'.join(tables.values()))
    if args.update_doc:
        update_doc(args.update_doc, tables)
        print(f'updated {args.update_doc}')
    if args.figures:
        for path in figures(args, args.figures):
            print(f'drew {path}')


if __name__ == '__main__':
    main()
