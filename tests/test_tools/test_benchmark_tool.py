"""tools/analysis_tools/benchmark.py on the quick-start networks."""
import json

import pytest

from tests.conftest import run_tool


def test_benchmark_reports_both_networks(tmp_path):
    out = tmp_path / 'bench.json'
    result = run_tool('tools/analysis_tools/benchmark.py',
                      'configs/quickstart/kdas_pvtv2b0_sample.py', '--shape', '64', '64',
                      '--batch', '2', '--repeats', '2', '--trials', '1', '--reference',
                      '--profile', '--floor', '--out', str(out))
    rows = json.loads(out.read_text())
    floors = {r['network']: r for r in rows if 'floor' in r}
    rows = [r for r in rows if 'floor' not in r]
    networks = {r['network'] for r in rows}
    assert networks == {'student', 'teacher'}
    student = next(r for r in rows if r['network'] == 'student')
    assert f'{student["params_M"]:.3f}' == '3.651' and student['gflops'] > 0
    assert {r['runtime'] for r in rows} >= {
        'PyTorch eager (kdas)', 'PyTorch eager (kdas, freed memory kept)',
        'PyTorch eager (reference)', 'ONNX Runtime'
    }
    assert all(r['latency_ms'] > 0 and r['throughput_img_s'] > 0 for r in rows)
    # the arithmetic floor: each network's FLOPs at the machine's matrix-product rates, which
    # no measured latency beats (int8 arithmetic is the faster of the two)
    assert set(floors) == networks
    for r in rows:
        floor = floors[r['network']]
        assert floor['float32_floor_ms'] == pytest.approx(
            r['gflops'] / floor['float32_peak_gops'] * 1e3)
        assert floor['int8_floor_ms'] < floor['float32_floor_ms'] < r['latency_ms']
    assert 'x reference' in result.stdout.split('arithmetic floor')[1]
    # both profiles: PyTorch's operator table and ONNX Runtime's time per operator type
    assert 'aten::' in result.stdout
    assert 'ms of kernel time per run' in result.stdout and 'Conv' in result.stdout
