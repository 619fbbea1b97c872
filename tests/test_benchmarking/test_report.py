"""The benchmark's report: ratios to the reference and the arithmetic floor, on rows whose
figures are known."""
from kdas.benchmarking.arithmetic_floor import floor_ms
from kdas.benchmarking.benchmark import BenchmarkResult, format_report, runtimes_for
from kdas.benchmarking.measurements import EAGER, INT8, KEPT, ONNX, REFERENCE, Settings


def row(runtime, latency_ms, gflops=2.0):
    return dict(network='student', runtime=runtime, device='cpu', params_M=3.651,
                gflops=gflops, latency_ms=latency_ms, throughput_img_s=100.0, trials=3)


def test_ratios_and_floors_are_against_the_reference_row():
    settings = Settings(config='c.py', checkpoint=None, shape=(352, 352), batch=16, repeats=20,
                        threads=2, tuned_allocator=False, sample_dir='data')
    peaks = {'float32': 400.0, 'int8': 1600.0}
    result = BenchmarkResult(
        rows=[row(EAGER, 30.0), row(REFERENCE, 60.0), row(ONNX, 15.0), row(INT8, 12.0)],
        floor_rows=[dict(network='student', float32_floor_ms=floor_ms(2.0, 400.0),
                         int8_floor_ms=floor_ms(2.0, 1600.0))], peaks=peaks)
    lines = format_report(result, settings, reference=True).splitlines()
    assert f'student: {EAGER} latency = 0.50 x reference' in lines
    assert f'student: {ONNX} latency = 0.25 x reference' in lines
    assert f'student: {INT8} latency = 0.20 x reference' in lines
    # 2 GFLOPs at 400 GFLOP/s: 5 ms; at 1600 GOP/s: 1.25 ms, printed to one decimal
    assert lines[-1] == ('student: float32 5.0 ms = 0.08 x reference, '
                         'int8 1.2 ms = 0.02 x reference')
    assert '(2 threads: float32 400 GFLOP/s, uint8 x int8 1600 GOP/s)' in lines[-2]


def test_runtimes_in_table_order():
    assert runtimes_for(reference=True, onnx=True, int8=True, tuned_allocator=False) == [
        EAGER, KEPT, REFERENCE, ONNX, INT8]
    # a tuned allocator in every row makes the freed-memory row the plain one
    assert runtimes_for(reference=False, onnx=False, int8=False, tuned_allocator=True) == [
        EAGER]
