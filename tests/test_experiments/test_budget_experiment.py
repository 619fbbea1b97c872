import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from kdas.experiments import figures, rows, runner, tables, work_root
from kdas.experiments.work_root import WorkRoot
from tests.conftest import REPO


def test_wall_time_adds_every_run_of_a_row_including_interrupted_ones(tmp_path):
    for run, (start, end) in {'20261125_100000': ('10:00:00', '10:10:30'),
                              '20261125_120000': ('12:00:00', '12:05:00')}.items():
        (tmp_path / run).mkdir()
        (tmp_path / run / f'{run}.log').write_text(
            f'2026/11/25 {start} - mmengine - INFO - start\n'
            f'2026/11/25 {end} - mmengine - INFO - Epoch(train) [3][10/182]\n')
    assert work_root.training_seconds(str(tmp_path)) == 630 + 300


def test_every_row_has_a_config_that_builds():
    from mmengine.config import Config
    from mmseg.registry import MODELS
    for label, config, seed, teacher, baseline in rows.ROWS.values():
        assert rows.resolve_row(baseline).teacher is None, baseline  # a student alone
        cfg = Config.fromfile(osp.join(REPO, config))
        assert (cfg.model.type == 'DistillationSegmentor') == bool(teacher), config
        if teacher:
            cfg.model.teacher_checkpoint = None  # built, not trained
        MODELS.build(cfg.model)


def test_loss_scales_average_the_first_and_last_epoch_across_resumed_runs(tmp_path):
    lines = {
        '20261125_100000': [dict(epoch=1, iter=1, loss=10., **{'distill.loss_at': 6.}),
                            dict(epoch=1, iter=2, loss=8., **{'distill.loss_at': 4.}),
                            dict(epoch=2, iter=3, loss=7., **{'distill.loss_at': 3.})],
        # resumed after a kill: epoch 2 again (its record replaces the first), then the last
        '20261125_120000': [dict(epoch=2, iter=3, loss=6., **{'distill.loss_at': 2.}),
                            dict(epoch=3, iter=4, loss=3., **{'distill.loss_at': 1.})],
    }
    for run, records in lines.items():
        (tmp_path / run / 'vis_data').mkdir(parents=True)
        with open(tmp_path / run / 'vis_data' / 'scalars.json', 'w') as f:
            for record in records:
                f.write(json.dumps(dict(lr=1e-4, **record)) + '\n')
            f.write(json.dumps(dict(mDice=0.5, step=3)) + '\n')  # a validation record
    scales = work_root.loss_scales(str(tmp_path))
    assert scales['first'] == {'loss': 9., 'distill.loss_at': 5., 'epoch': 1}
    assert scales['last'] == {'loss': 3., 'distill.loss_at': 1., 'epoch': 3}
    from kdas.utils import read_scalars
    train, val = read_scalars(str(tmp_path))
    assert [r['loss'] for r in train] == [10., 8., 6., 3.] and val == [dict(mDice=0.5, step=3)]


def test_a_row_locked_by_a_live_instance_is_skipped_and_a_stale_lock_is_taken(tmp_path):
    (tmp_path / 'row.lock').write_text(str(os.getpid()))  # a live holder
    assert not runner.claim(str(tmp_path))
    finished = subprocess.Popen([sys.executable, '-c', 'pass'])
    finished.wait()
    (tmp_path / 'row.lock').write_text(str(finished.pid))  # its holder was killed
    assert runner.claim(str(tmp_path))
    assert (tmp_path / 'row.lock').read_text() == str(os.getpid())
    assert not runner.claim(str(tmp_path))  # and now it is ours, held


def test_update_doc_replaces_only_the_marked_tables(tmp_path):
    doc = tmp_path / 'results.md'
    doc.write_text('intro\n<!-- results-table:start -->\nold\n<!-- results-table:end -->\n'
                   'middle\n<!-- loss-table:start -->\n<!-- loss-table:end -->\nend\n')
    tables.update_doc(str(doc), {'results-table': '| a |', 'loss-table': '| b |'})
    assert doc.read_text() == ('intro\n<!-- results-table:start -->\n| a |\n'
                               '<!-- results-table:end -->\nmiddle\n<!-- loss-table:start -->\n'
                               '| b |\n<!-- loss-table:end -->\nend\n')


def test_seed_rows_resolve_to_their_objective():
    assert rows.resolve_row('student-s2')[1:] == (
        'configs/budget/polyppvt_pvtv2b0_budget.py', 2, None, 'student')
    # a seed keeps its objective's baseline
    assert rows.resolve_row('cwd-mobilenetv2-lr1e3-s2')[2:] == (
        2, 'teacher', 'student-mobilenetv2-lr1e3')
    label, config, seed, teacher, _ = rows.resolve_row('balanced-s1')
    assert (config, seed, teacher) == (
        'configs/budget/kdas-balanced_pvtv2b0_budget.py', 1, 'teacher')
    assert rows.resolve_row('kdas-t30-s2')[2:4] == (2, 'teacher30')
    assert label.endswith('(seed 1)') and 'balanced' in label
    assert rows.resolve_row('publiccode') == rows.ROWS['publiccode']
    with pytest.raises(ValueError, match='unknown row'):
        rows.resolve_row('nonsense-s1')
    with pytest.raises(ValueError, match='unknown row'):
        rows.resolve_row('teacher-s1')  # a teacher per row set, not per seed


def test_bf16_rows_train_their_objective_under_autocast(tmp_path, monkeypatch):
    label, config, seed, teacher, _ = rows.resolve_row('kdas-bf16-s1')
    assert (config, seed, teacher) == ('configs/budget/kdas_pvtv2b0_budget.py', 1, 'teacher')
    assert label == 'KDAS as the paper defines it, bf16 autocast (seed 1)'
    assert rows.resolve_row('student-bf16')[1:4] == (
        'configs/budget/polyppvt_pvtv2b0_budget.py', 0, None)
    assert rows.objective('balanced-bf16-s2') == 'balanced'
    assert [rows.row_precision(n) for n in ('student-bf16', 'kdas-bf16-s1', 'kdas-s1')] == [
        'bf16', 'bf16', None]

    commands = []
    monkeypatch.setattr(runner.subprocess, 'run', lambda cmd, **kw: commands.append(cmd)
                        or subprocess.CompletedProcess(cmd, 0))
    rows_runner = runner.Runner(WorkRoot(str(tmp_path)), '/data', REPO)
    for name in ('student-bf16-s2', 'student-s2'):
        rows_runner.train_and_test(name)
    bf16_train, _test, fp32_train, _test = commands
    assert bf16_train[bf16_train.index('--amp') + 1] == 'bf16' and '--amp' not in fp32_train
    # Seed 2 of any objective validates every epoch, whatever its precision.
    assert 'train_cfg.val_interval=1' in bf16_train and 'randomness.seed=2' in bf16_train


def write_row(root, name, per_image):
    """A finished row: per-image Dice@0.5 / mDice on both test sets, and their means."""
    test = root / name / 'test'
    test.mkdir(parents=True)
    table = {ds: {img: {'Dice@0.5': d, 'meanDic': d - 0.01} for img, d in scores.items()}
             for ds, scores in per_image.items()}
    (test / 'polyp_metrics_per_image.json').write_text(json.dumps(table))
    means = {ds: {'Dice@0.5': sum(s.values()) / len(s),
                  'meanDic': sum(s.values()) / len(s) - 0.01} for ds, s in per_image.items()}
    (test / 'polyp_metrics.json').write_text(json.dumps(means))


def test_seed_spread_and_paired_comparison_tables(tmp_path):
    images = [f'im{i}' for i in range(40)]
    base = {i: 0.5 + 0.01 * k for k, i in enumerate(images)}
    for seed, shift in ((0, 0.0), (1, 0.02)):
        write_row(tmp_path, f'student-s{seed}',
                  {ds: {i: v + shift for i, v in base.items()} for ds in
                   ('Kvasir', 'CVC-ClinicDB')})
        # balanced gains exactly 0.03 on every image of every seed
        write_row(tmp_path, 'balanced' if seed == 0 else f'balanced-s{seed}',
                  {ds: {i: v + shift + 0.03 for i, v in base.items()} for ds in
                   ('Kvasir', 'CVC-ClinicDB')})
    root = WorkRoot(str(tmp_path))
    names = root.rows()
    assert names.index('balanced-s1') == names.index('balanced') + 1
    seeds = tables.seeds_table(root)
    student = next(ln for ln in seeds.splitlines() if ln.startswith('| Student alone'))
    mb = sum(base.values()) / len(base)  # seeds 0 and 1 shift it by 0 and 0.02
    cells = f'{mb + 0.01:.3f} +- 0.010 | {mb:.3f} +- 0.010'  # Dice@0.5, then mDice
    assert student == f'| Student alone, PVTv2-B0 | 0, 1 | {cells} | {cells} |'
    comparison = tables.comparison_table(root, draws=200)
    line = next(ln for ln in comparison.splitlines() if 'balanced' in ln)
    assert line.count('+0.030 [+0.030, +0.030]') == 4  # a constant gain: no width
    assert '| 0, 1 |' in line


def test_a_cnn_student_is_compared_with_its_own_student_alone(tmp_path):
    images = [f'im{i}' for i in range(20)]
    # distilled MobileNetV2 = MobileNetV2 alone + 0.05; MobileNetV2 alone = PVTv2-B0 alone at
    # the same lr 1e-3 - 0.03; that one = PVTv2-B0 alone at the budget's lr + 0.13
    offsets = {'student-s0': 0.30, 'student-lr1e3': 0.43, 'student-mobilenetv2-lr1e3': 0.40,
               'cwd-mobilenetv2-lr1e3': 0.45,
               # its baseline has no seed 1
               'kdas-mobilenetv2-lr1e3-s1': 0.9}
    for name, offset in offsets.items():
        scores = {i: offset + 0.01 * k for k, i in enumerate(images)}
        write_row(tmp_path / 'main', name, {ds: scores for ds in ('Kvasir', 'CVC-ClinicDB')})
    resnet_root = tmp_path / 'other'
    write_row(resnet_root, 'student-resnet18-lr1e3', {ds: {i: 0.5 for i in images}
                                                      for ds in ('Kvasir', 'CVC-ClinicDB')})
    lines = tables.comparison_table(WorkRoot(str(tmp_path / 'main')), draws=200).splitlines()[2:]
    # and its baseline (PVTv2-B0 alone at lr 1e-3) is in another work root
    lines += tables.comparison_table(WorkRoot(str(resnet_root)), draws=200).splitlines()[2:]

    def cells(diff):
        return ' | '.join([f'{diff:+.3f} [{diff:+.3f}, {diff:+.3f}]'] * 4)

    assert sorted(lines) == sorted([
        f'| Student alone, PVTv2-B0, lr 1e-3 | 0 | {cells(0.13)} |',
        '| Student alone, MobileNetV2, lr 1e-3 vs Student alone, PVTv2-B0, lr 1e-3 | 0 | '
        f'{cells(-0.03)} |',
        '| Channel-wise distillation, MobileNetV2 student, lr 1e-3 vs Student alone, '
        f'MobileNetV2, lr 1e-3 | 0 | {cells(0.05)} |',
        '| KDAS as the paper defines it, MobileNetV2 student, lr 1e-3 vs Student alone, '
        'MobileNetV2, lr 1e-3 | no seed in common | - | - | - | - |',
        '| Student alone, ResNet-18, lr 1e-3 vs Student alone, PVTv2-B0, lr 1e-3 | baseline '
        'not tested | - | - | - | - |'])


def test_head_to_head_ranks_the_three_seed_objectives_and_pairs_them(tmp_path):
    images = [f'im{i}' for i in range(30)]
    gains = {'student': 0.0, 'pixelkd': 0.01, 'cwd': 0.04, 'balanced': 0.2}
    for base, gain in gains.items():
        # balanced has one seed only: a screen, not part of the final comparison
        for seed in ((0, ) if base == 'balanced' else (0, 1, 2)):
            name = base if seed == 0 and base != 'student' else f'{base}-s{seed}'
            write_row(tmp_path, name, {ds: {i: 0.4 + 0.01 * k + 0.02 * seed + gain
                                            for k, i in enumerate(images)}
                                       for ds in ('Kvasir', 'CVC-ClinicDB')})
    table = tables.head_to_head_table(WorkRoot(str(tmp_path)), draws=200)
    lines = table.splitlines()[2:]
    cwd, pixel = rows.ROWS['cwd'][0], rows.ROWS['pixelkd'][0]
    # the better objective first; each line is its per-image gain over the other
    assert lines == [f'| {cwd} vs {pixel} | 0, 1, 2 | ' + ' | '.join(
        ['+0.030 [+0.030, +0.030]'] * 4) + ' |']


def test_validation_curves_follow_every_validated_epoch_across_resumed_runs(tmp_path):
    for run, epochs in (('20260101_000000', (1, 2, 3)), ('20260102_000000', (3, 4))):
        vis = tmp_path / 'balanced' / run / 'vis_data'
        vis.mkdir(parents=True)
        records = [{'Kvasir/meanDic': 0.1 * e + (run[7] == '2') * 0.01,
                    'CVC-ClinicDB/meanDic': 0.05 * e, 'step': e} for e in epochs]
        records.insert(0, {'loss': 1.0, 'iter': 1})  # a training record: not a curve point
        (vis / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in records))
    only_once = tmp_path / 'student-s0' / 'x' / 'vis_data'
    only_once.mkdir(parents=True)
    (only_once / 'scalars.json').write_text(json.dumps(
        {'Kvasir/meanDic': 0.5, 'CVC-ClinicDB/meanDic': 0.5, 'step': 12}))
    root = WorkRoot(str(tmp_path))
    curves = work_root.validation_curves(root)
    assert list(curves) == [rows.ROWS['balanced'][0]]  # validated once: no curve
    epochs, scores = curves[rows.ROWS['balanced'][0]]
    assert epochs == [1, 2, 3, 4]
    # The resumed run's epoch 3 replaces the interrupted run's.
    assert scores['Kvasir'] == pytest.approx([0.1, 0.2, 0.31, 0.41])
    assert scores['CVC-ClinicDB'] == pytest.approx([0.05, 0.1, 0.15, 0.2])
    path = figures.validation_figure(root, str(tmp_path / 'fig'))
    assert path.endswith('results_validation.png') and os.path.getsize(path) > 10000


def test_precision_table_checks_bf16_against_the_float32_seed_range(tmp_path):
    images = [f'im{i}' for i in range(10)]

    def row(name, score):
        write_row(tmp_path, name, {ds: {i: score for i in images}
                                   for ds in ('Kvasir', 'CVC-ClinicDB')})

    for name, score in (('pixelkd', 0.60), ('pixelkd-s1', 0.64), ('pixelkd-s2', 0.62),
                        ('pixelkd-bf16-s2', 0.63), ('student-s0', 0.60), ('student-s1', 0.62),
                        ('student-bf16-s1', 0.65)):
        row(name, score)
    lines = tables.precision_table(WorkRoot(str(tmp_path))).splitlines()
    assert len(lines) == 4  # header, rule and one line per bf16 row
    pixel = next(ln for ln in lines if ln.startswith('| Pixel-wise'))
    # mDice is written 0.01 below Dice@0.5 by write_row; no training logs: no s/iter
    assert pixel == ('| Pixel-wise response KD (P1, P2), seed 2 (float32 seeds 0, 1, 2) | - / - | '
                     + ' | '.join(['0.630 (0.600-0.640) | 0.620 (0.590-0.630)'] * 2) + ' | yes |')
    student = next(ln for ln in lines if ln.startswith('| Student alone'))
    assert student.startswith('| Student alone, PVTv2-B0, seed 1 (float32 seeds 0, 1) |')
    assert student.endswith('| 0.640 (0.590-0.610) | no |')


def test_a_failed_training_stops_the_rows_with_an_error_and_keeps_the_row_resumable(
        tmp_path, monkeypatch, capsys):
    from kdas.experiments import cli
    calls = []

    def train_fails(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1)

    monkeypatch.setattr(runner.subprocess, 'run', train_fails)
    code = cli.main(REPO, ['--data-root', str(tmp_path), '--work-root', str(tmp_path / 'w'),
                           '--rows', 'student-s0', 'student-s1'])
    assert code == 1
    assert len(calls) == 1 and 'tools/train.py' in calls[0]  # neither tested nor the next row
    err = capsys.readouterr().err
    assert err.startswith('error: [student-s0] tools/train.py exited with 1')
    assert not (tmp_path / 'w' / 'student-s0' / 'row.lock').exists()  # released


def test_an_empty_lock_is_taken_once_its_writer_cannot_be_writing_it(tmp_path):
    lock = tmp_path / 'row.lock'
    lock.write_text('')  # just created by an instance that has not written its pid yet
    assert not runner.claim(str(tmp_path))
    old = lock.stat().st_mtime - 2 * runner.STALE_EMPTY_LOCK_S
    os.utime(lock, (old, old))  # its writer was killed between creating and writing it
    assert runner.claim(str(tmp_path))
    assert lock.read_text() == str(os.getpid())


def test_update_doc_leaves_the_document_whole_when_a_marker_is_missing(tmp_path):
    doc = tmp_path / 'results.md'
    text = 'intro\n<!-- results-table:start -->\nold\n<!-- results-table:end -->\n'
    doc.write_text(text)
    with pytest.raises(ValueError, match='no <!-- loss-table:start -->'):
        tables.update_doc(str(doc), {'results-table': '| a |', 'loss-table': '| b |'})
    assert doc.read_text() == text


def test_any_two_objectives_pair_over_their_shared_seeds(tmp_path):
    images = [f'im{i}' for i in range(20)]
    for name, offset in (('cwd-mobilenetv2-lr1e3', 0.45), ('cwd-mobilenetv2-lr1e3-s1', 0.47),
                         ('student-lr1e3', 0.43), ('student-lr1e3-s1', 0.45),
                         ('cwd-mobilenetv2-lr1e3-s2', 0.49)):
        scores = {i: offset + 0.01 * k for k, i in enumerate(images)}
        write_row(tmp_path, name, {ds: scores for ds in ('Kvasir', 'CVC-ClinicDB')})
    table = tables.pairs_table(WorkRoot(str(tmp_path)), [
        ('cwd-mobilenetv2-lr1e3', 'student-lr1e3'), ('student-resnet18-lr1e3', 'student-lr1e3')],
        draws=200)
    assert table.splitlines()[2:] == [
        '| Channel-wise distillation, MobileNetV2 student, lr 1e-3 vs Student alone, PVTv2-B0, '
        'lr 1e-3 | 0, 1 | ' + ' | '.join(['+0.020 [+0.020, +0.020]'] * 4) + ' |',
        '| Student alone, ResNet-18, lr 1e-3 vs Student alone, PVTv2-B0, lr 1e-3 | '
        'student-resnet18-lr1e3 not tested | - | - | - | - |']


@pytest.mark.parametrize('pair', ['cwd-s1:student', 'cwd:teacher', 'cwd', 'nonsense:cwd'])
def test_a_pair_that_is_not_two_objectives_is_refused(pair, capsys):
    from kdas.experiments import cli
    with pytest.raises(SystemExit):
        cli.parse_args(['--data-root', '/data', '--table-only', '--pair', pair])
    assert f'--pair {pair}' in capsys.readouterr().err
