import importlib.util
import os.path as osp

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


def test_every_row_has_a_config_that_exists():
    script = load_script()
    for label, config, seed, _ in script.ROWS.values():
        assert osp.isfile(osp.join(REPO, config)), config
