import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

from tests.conftest import REPO


def load_script():
    path = osp.join(REPO, 'tools', 'analysis_tools', 'reproduce_results.py')
    spec = importlib.util.spec_from_file_location('reproduce_results', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wall_time_adds_every_run_of_a_row_including_interrupted_ones(tmp_path):
    script = load_script()
    for run, (start, end) in {'20261125_100000': ('10:00:00', '10:10:30'),
                              '20261125_120000': ('12:00:00', '12:05:00')}.items():
        (tmp_path / run).mkdir()
        (tmp_path / run / f'{run}.log').write_text(
            f'2026/11/25 {start} - mmengine - INFO - start\n'
            f'2026/11/25 {end} - mmengine - INFO - Epoch(train) [3][10/182]\n')
    assert script.training_seconds(str(tmp_path)) == 630 + 300


def test_every_row_has_a_config_that_builds():
    from mmengine.config import Config
    from mmseg.registry import MODELS
    script = load_script()
    for label, config, seed, needs_teacher in script.ROWS.values():
        cfg = Config.fromfile(osp.join(REPO, config))
        assert (cfg.model.type == 'DistillationSegmentor') == needs_teacher, config
        if needs_teacher:
            cfg.model.teacher_checkpoint = None  # built, not trained
        MODELS.build(cfg.model)


def test_loss_scales_average_the_first_and_last_epoch_across_resumed_runs(tmp_path):
    script = load_script()
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
    scales = script.loss_scales(str(tmp_path))
    assert scales['first'] == {'loss': 9., 'distill.loss_at': 5., 'epoch': 1}
    assert scales['last'] == {'loss': 3., 'distill.loss_at': 1., 'epoch': 3}
    from kdas.utils import read_scalars
    train, val = read_scalars(str(tmp_path))
    assert [r['loss'] for r in train] == [10., 8., 6., 3.] and val == [dict(mDice=0.5, step=3)]


def test_a_row_locked_by_a_live_instance_is_skipped_and_a_stale_lock_is_taken(tmp_path):
    script = load_script()
    (tmp_path / 'row.lock').write_text(str(os.getpid()))  # a live holder
    assert not script.claim(str(tmp_path))
    finished = subprocess.Popen([sys.executable, '-c', 'pass'])
    finished.wait()
    (tmp_path / 'row.lock').write_text(str(finished.pid))  # its holder was killed
    assert script.claim(str(tmp_path))
    assert (tmp_path / 'row.lock').read_text() == str(os.getpid())
    assert not script.claim(str(tmp_path))  # and now it is ours, held


def test_update_doc_replaces_only_the_marked_tables(tmp_path):
    script = load_script()
    doc = tmp_path / 'results.md'
    doc.write_text('intro\n<!-- results-table:start -->\nold\n<!-- results-table:end -->\n'
                   'middle\n<!-- loss-table:start -->\n<!-- loss-table:end -->\nend\n')
    script.update_doc(str(doc), {'results-table': '| a |', 'loss-table': '| b |'})
    assert doc.read_text() == ('intro\n<!-- results-table:start -->\n| a |\n'
                               '<!-- results-table:end -->\nmiddle\n<!-- loss-table:start -->\n'
                               '| b |\n<!-- loss-table:end -->\nend\n')
