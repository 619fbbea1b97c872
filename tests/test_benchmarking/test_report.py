"""The benchmark's report: ratios to the reference and the arithmetic floor, on rows whose
figures are known."""
from kdas.benchmarking.arithmetic_floor import floor_ms
from kdas.benchmarking.benchmark import BenchmarkResult, format_report, runtimes_for
from kdas.benchmarking.measurements import (BF16, EAGER, INT8, KEPT, ONNX, REFERENCE,
                                            Settings)


def row(runtime, latency_ms, gflops=2.0, network='student', threads=2):
    return dict(network=network, runtime=runtime, device='cpu', threads=threads,
                params_M=3.651, gflops=gflops, latency_ms=latency_ms, throughput_img_s=100.0,
                trials=3)


def test_ratios_and_floors_are_against_the_reference_row():
    settings = Settings(shape=(352, 352), batch=16, repeats=20, tuned_allocator=False,
                        sample_dir='data')
    peaks = {'float32': 400.0, 'int8': 1600.0}
    result = BenchmarkResult(
        rows=[row(EAGER, 30.0), row(REFERENCE, 60.0), row(ONNX, 15.0), row(INT8, 12.0),
              # a CNN student has no public formulation: set against the public student's
              row(INT8, 3.0, gflops=1.0, network='mbv2'),
              row(REFERENCE, 90.0, threads=1), row(INT8, 18.0, threads=1)],
        floor_rows=[dict(network='student', threads=2, float32_floor_ms=floor_ms(2.0, 400.0),
                         int8_floor_ms=floor_ms(2.0, 1600.0)),
                    dict(network='mbv2', threads=2, float32_floor_ms=floor_ms(1.0, 400.0),
                         int8_floor_ms=floor_ms(1.0, 1600.0))], peaks={2: peaks})
    lines = format_report(result, settings, reference=True).splitlines()
    assert f'student: {EAGER} latency at 2 threads = 0.50 x reference' in lines
    assert f'student: {ONNX} latency at 2 threads = 0.25 x reference' in lines
    assert f'student: {INT8} latency at 2 threads = 0.20 x reference' in lines
    assert f'mbv2: {INT8} latency at 2 threads = 0.05 x student reference' in lines
    assert f'student: {INT8} latency at 1 thread = 0.20 x reference' in lines
    # 2 GFLOPs at 400 GFLOP/s: 5 ms; at 1600 GOP/s: 1.25 ms, printed to one decimal
    assert lines[-2] == ('student: float32 5.0 ms = 0.08 x reference, '
                         'int8 1.2 ms = 0.02 x reference')
    assert lines[-1] == ('mbv2: float32 2.5 ms = 0.04 x student reference, '
                         'int8 0.6 ms = 0.01 x student reference')
    assert '(2 threads: float32 400 GFLOP/s, uint8 x int8 1600 GOP/s)' in lines[-3]


def test_runtimes_in_table_order():
    assert runtimes_for(reference=True, onnx=True, int8=True, tuned_allocator=False,
                        bf16=True) == [EAGER, KEPT, REFERENCE, BF16, ONNX, INT8]
    # a tuned allocator in every row makes the freed-memory row the plain one
    assert runtimes_for(reference=False, onnx=False, int8=False, tuned_allocator=True) == [
        EAGER]


def test_the_cpu_is_named_with_the_instruction_sets_that_matter(tmp_path):
    from kdas.benchmarking.machine import cpu_info
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\ncpu family\t: 6\nmodel\t\t: 143\n'
                       'model name\t: Intel(R) Xeon(R) Processor\n'
                       'flags\t\t: fpu avx2 avx512f avx512_vnni amx_tile amx_int8\n'
                       'processor\t: 1\nmodel name\t: another\nflags\t\t: fpu\n')
    info = cpu_info(str(cpuinfo))
    assert info['model'] == 'Intel(R) Xeon(R) Processor (family 6, model 143)'
    present = [k for k, v in info['flags'].items() if v]
    assert present == ['AVX2', 'AVX-512', 'AVX-512 VNNI', 'AMX int8']
    assert cpu_info(str(tmp_path / 'absent'))['model'] == 'unknown'
