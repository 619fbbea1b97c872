"""The rows of the CPU-budget experiment and how their names read.

A row is a name of ``ROWS``; ``NAME-sK`` runs a row's objective with seed K (``balanced-s1``,
``student-s2``), so any objective can get the seeds of the final comparison; ``NAME-bf16`` /
``NAME-bf16-sK`` trains it under bfloat16 autocast (``tools/train.py --amp``).
"""
import re
from typing import NamedTuple, Optional, Tuple

TEACHER = 'teacher'
TEACHER30 = 'teacher30'
TEACHERS = (TEACHER, TEACHER30)
STUDENT = 'student'
BF16 = '-bf16'


class Row(NamedTuple):
    label: str
    config: str
    seed: int
    teacher: Optional[str]  # the teacher row it distils from
    # The objective the comparison table pairs it with: the same student, alone, at the same
    # learning rate (the PVTv2-B0 student alone at the budget's, unless named).
    baseline: str = STUDENT


ROWS = {
    TEACHER: Row('Teacher: Polyp-PVT PVTv2-B2 (10 epochs)',
                 'configs/budget/polyppvt_pvtv2b2_budget.py', 0, None),
    'student-s0': Row('Student alone, PVTv2-B0 (seed 0)',
                      'configs/budget/polyppvt_pvtv2b0_budget.py', 0, None),
    'student-s1': Row('Student alone, PVTv2-B0 (seed 1)',
                      'configs/budget/polyppvt_pvtv2b0_budget.py', 1, None),
    'kdas-s0': Row('KDAS as the paper defines it (seed 0)',
                   'configs/budget/kdas_pvtv2b0_budget.py', 0, TEACHER),
    'kdas-s1': Row('KDAS as the paper defines it (seed 1)',
                   'configs/budget/kdas_pvtv2b0_budget.py', 1, TEACHER),
    'publiccode': Row("Public code's effective objective (MSE SGM on P1, unweighted BCE)",
                      'configs/budget/kdas-publiccode_pvtv2b0_budget.py', 0, TEACHER),
    'atonly': Row('L_AT only', 'configs/budget/kdas-atonly_pvtv2b0_budget.py', 0, TEACHER),
    'sgmonly': Row('L_SGM only (KL)', 'configs/budget/kdas-sgmonly_pvtv2b0_budget.py', 0,
                   TEACHER),
    # Objectives tried to make distillation pay under this budget (seed 0 first).
    'alpha01': Row('KDAS, alpha 0.1', 'configs/budget/kdas-alpha01_pvtv2b0_budget.py', 0,
                   TEACHER),
    'balanced': Row('KDAS, terms balanced to L_seg',
                    'configs/budget/kdas-balanced_pvtv2b0_budget.py', 0, TEACHER),
    'warmup': Row('KDAS, alpha warm-up (3 epochs)',
                  'configs/budget/kdas-warmup_pvtv2b0_budget.py', 0, TEACHER),
    'pixelkd': Row('Pixel-wise response KD (P1, P2)', 'configs/budget/pixelkd_pvtv2b0_budget.py',
                   0, TEACHER),
    'cwd': Row('Channel-wise distillation (decoder features)',
               'configs/budget/cwd_pvtv2b0_budget.py', 0, TEACHER),
    'cwdpix': Row('Channel-wise distillation + pixel-wise response KD',
                  'configs/budget/cwd-pixelkd_pvtv2b0_budget.py', 0, TEACHER),
    # A stronger teacher: the same B2 trained 30 epochs, and objectives distilled from it.
    # Its row in docs/results.md was trained on a GPU: its times are the GPU's.
    TEACHER30: Row('Teacher: Polyp-PVT PVTv2-B2 (30 epochs; trained on an H200)',
                   'configs/budget/polyppvt_pvtv2b2-30e_budget.py', 0, None),
    'kdas-t30': Row('KDAS from the 30-epoch teacher', 'configs/budget/kdas_pvtv2b0_budget.py',
                    0, TEACHER30),
    'balanced-t30': Row('KDAS balanced, from the 30-epoch teacher',
                        'configs/budget/kdas-balanced_pvtv2b0_budget.py', 0, TEACHER30),
    'pixelkd-t30': Row('Pixel-wise response KD, from the 30-epoch teacher',
                       'configs/budget/pixelkd_pvtv2b0_budget.py', 0, TEACHER30),
    'cwd-t30': Row('Channel-wise distillation, from the 30-epoch teacher',
                   'configs/budget/cwd_pvtv2b0_budget.py', 0, TEACHER30),
    # The student alone at the CNN students' learning rate.
    'student-lr1e3': Row('Student alone, PVTv2-B0, lr 1e-3',
                         'configs/budget/polyppvt_pvtv2b0-lr1e-3_budget.py', 0, None),
    # CNN students (configs/students/) alone; the MobileNetV2 student, the faster, distilled
    # with CWD (the budget's best objective) and KDAS, all at the lr 1e-3 it trains at (at
    # the budget's 1e-4 it does not: the first row).
    'student-mobilenetv2': Row('Student alone, MobileNetV2',
                               'configs/students/polyppvt_mobilenetv2_budget.py', 0, None),
    'student-mobilenetv2-lr1e3': Row('Student alone, MobileNetV2, lr 1e-3',
                                     'configs/students/polyppvt_mobilenetv2-lr1e-3_budget.py',
                                     0, None, 'student-lr1e3'),
    'student-resnet18-lr1e3': Row('Student alone, ResNet-18, lr 1e-3',
                                  'configs/students/polyppvt_resnet18-lr1e-3_budget.py', 0,
                                  None, 'student-lr1e3'),
    'cwd-mobilenetv2-lr1e3': Row('Channel-wise distillation, MobileNetV2 student, lr 1e-3',
                                 'configs/students/cwd_mobilenetv2-lr1e-3_budget.py', 0,
                                 TEACHER, 'student-mobilenetv2-lr1e3'),
    'kdas-mobilenetv2-lr1e3': Row('KDAS as the paper defines it, MobileNetV2 student, lr 1e-3',
                                  'configs/students/kdas_mobilenetv2-lr1e-3_budget.py', 0,
                                  TEACHER, 'student-mobilenetv2-lr1e3'),
}
# Rows validated after every epoch (the validation-over-epochs figure): the objectives of
# the "distillation that pays" comparison and every seed from 2 on. The others validate at
# the end only, so that their random streams, and so their numbers, stay those of
# docs/results.md.
VALIDATED_EVERY_EPOCH = ('alpha01', 'balanced', 'warmup', 'pixelkd', 'cwd', 'cwdpix', 'kdas-t30',
                         'balanced-t30', 'pixelkd-t30', 'cwd-t30')
SEEDED = re.compile(r'^(.+)-s(\d+)$')


def row_base(name: str) -> Tuple[str, int]:
    """(objective, seed) of a row name: ``kdas-s1`` -> (``kdas``, 1); no suffix: seed 0."""
    match = SEEDED.match(name)
    return (match.group(1), int(match.group(2))) if match else (name, 0)


def objective(name: str) -> str:
    """The ROWS objective of a row name, without seed and precision: ``kdas-bf16-s1`` ->
    ``kdas``."""
    base = row_base(name)[0]
    return base[:-len(BF16)] if base.endswith(BF16) else base


def row_precision(name: str) -> Optional[str]:
    """``'bf16'`` for a ``NAME-bf16[-sK]`` row (trained under autocast), else None."""
    return 'bf16' if row_base(name)[0].endswith(BF16) else None


def objective_label(name: str) -> str:
    """A row's label without its seed: the objective it measures (``name`` a row or an
    objective: ``cwd-s2``, ``cwd``, ``student``)."""
    return re.sub(r' \(seed \d+\)$', '', resolve_row(name).label)


def validates_every_epoch(name: str) -> bool:
    return objective(name) in VALIDATED_EVERY_EPOCH or row_base(name)[1] >= 2


def resolve_row(name: str) -> Row:
    """The Row of a ROWS name or of ``ROWNAME[-bf16][-sK]``."""
    if name in ROWS:
        return ROWS[name]
    seed = row_base(name)[1]
    precision = ', bf16 autocast' if row_precision(name) else ''
    for known, row in ROWS.items():
        if row_base(known)[0] == objective(name) and known not in TEACHERS:
            return row._replace(label=objective_label(known) + f'{precision} (seed {seed})',
                                seed=seed)
    raise ValueError(f'unknown row {name!r}: use one of {", ".join(ROWS)}, or NAME-sK for a '
                     'seed K of one of them')
