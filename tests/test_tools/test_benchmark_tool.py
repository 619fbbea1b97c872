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


def test_benchmark_sets_a_cnn_student_against_the_public_student(tmp_path):
    """--add puts a CNN student beside the PVTv2 student, at each --threads count: it has no
    public formulation of its own, so its ratio is to the PVTv2 student's reference."""
    out = tmp_path / 'bench.json'
    result = run_tool('tools/analysis_tools/benchmark.py',
                      'configs/quickstart/polyppvt_pvtv2b0_sample.py', '--name', 'pvtv2b0',
                      '--add', 'mbv2:configs/quickstart/polyppvt_mobilenetv2_sample.py',
                      '--threads', '2', '1', '--shape', '64', '64', '--batch', '2',
                      '--repeats', '2', '--trials', '1', '--reference', '--bf16',
                      '--tuned-allocator', '--out', str(out))
    rows = json.loads(out.read_text())
    measured = {(r['network'], r['runtime'], r['threads']) for r in rows}
    for threads in (2, 1):
        assert ('pvtv2b0', 'PyTorch eager (reference)', threads) in measured
        assert ('mbv2', 'PyTorch eager (reference)', threads) not in measured
        assert ('mbv2', 'PyTorch eager bf16 (oneDNN)', threads) in measured
        assert ('mbv2', 'ONNX Runtime', threads) in measured
    mbv2 = next(r for r in rows if r['network'] == 'mbv2')
    assert f'{mbv2["params_M"]:.3f}' == '2.051'
    ref = next(r for r in rows if r['network'] == 'pvtv2b0' and r['threads'] == 1
               and r['runtime'] == 'PyTorch eager (reference)')
    onnx = next(r for r in rows if r['network'] == 'mbv2' and r['threads'] == 1
                and r['runtime'] == 'ONNX Runtime')
    line = f'mbv2: ONNX Runtime latency at 1 thread = ' \
        f'{onnx["latency_ms"] / ref["latency_ms"]:.2f} x pvtv2b0 reference'
    assert line in result.stdout.splitlines()
    assert 'AVX2' in result.stdout.splitlines()[0] or 'no AVX2' in result.stdout.splitlines()[0]

    refused = run_tool('tools/analysis_tools/benchmark.py',
                       'configs/quickstart/polyppvt_mobilenetv2_sample.py', '--reference',
                       '--trials', '1', check=False)
    assert refused.returncode == 1 and 'no network has a PVTv2 backbone' in refused.stderr
