"""kdas.utils.logs reads what MMEngine logged, including a log cut by a kill."""
import json

import pytest

from kdas.utils.logs import read_scalars

RECORDS = [{'loss': 2.5, 'iter': 1}, {'loss': 2.0, 'iter': 2},
           {'Kvasir/meanDic': 0.4, 'step': 1}, {'loss': 1.5, 'iter': 3}]


def write_log(work, run, text):
    folder = work / run / 'vis_data'
    folder.mkdir(parents=True)
    (folder / 'scalars.json').write_text(text)


def test_a_record_cut_by_a_kill_is_left_out_and_the_resumed_run_follows(tmp_path):
    lines = [json.dumps(r) for r in RECORDS]
    write_log(tmp_path, '20261201_100000', '\n'.join(lines) + '\n' + lines[0][:9])
    write_log(tmp_path, '20261201_110000', json.dumps({'loss': 1.0, 'iter': 4}) + '\n')
    train, val = read_scalars(str(tmp_path))
    assert [r['iter'] for r in train] == [1, 2, 3, 4] and train[-1]['loss'] == 1.0
    assert val == [RECORDS[2]]


def test_a_bad_line_inside_a_log_is_an_error_naming_it(tmp_path):
    lines = [json.dumps(r) for r in RECORDS]
    lines[1] = lines[1][:9]
    write_log(tmp_path, 'run', '\n'.join(lines) + '\n')
    with pytest.raises(ValueError, match=r'run/vis_data/scalars.json, line 2: not a JSON'):
        read_scalars(str(tmp_path))
