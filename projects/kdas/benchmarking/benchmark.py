"""A benchmark run: every (network, runtime, device, threads) measured ``trials`` times, each
time in a fresh process, the rows taking turns, then reported with the median over trials.

In one process, oneDNN's caches and the allocator carry state from one formulation to the
next and skew whichever runs second: hence a fresh process per measurement.
"""
import multiprocessing
import os
import statistics
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch

from ..deploy.export import ProbabilityModel
from .arithmetic_floor import floor_ms, matmul_peaks
from .machine import cpu_info, describe_cpu
from .measurements import (BF16, EAGER, INT8, KEPT, ONNX, ONNX_RUNTIMES, REFERENCE, Network,
                           Settings, build_network, flops, has_reference_formulation, measure,
                           measure_video, write_clip)

VIDEO_RUNTIMES = (EAGER, ONNX, INT8)
CPU_ONLY = ONNX_RUNTIMES + (KEPT, BF16)


def runtimes_for(reference: bool, onnx: bool, int8: bool, tuned_allocator: bool,
                 bf16: bool = False) -> List[str]:
    """The runtimes a run measures, in table order."""
    return [EAGER] + ([] if tuned_allocator else [KEPT]) + ([REFERENCE] if reference else []) \
        + ([BF16] if bf16 else []) + ([ONNX] if onnx else []) + ([INT8] if int8 else [])


@dataclass
class BenchmarkResult:
    rows: List[dict]
    video_rows: List[dict] = field(default_factory=list)
    floor_rows: List[dict] = field(default_factory=list)
    peaks: Dict[int, Dict[str, float]] = field(default_factory=dict)  # threads -> peaks
    cpu: str = ''


def _in_fresh_process(context, fn, *args):
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(fn, *args).result()


def run_benchmark(settings: Settings, networks: Sequence[Network], runtimes: Sequence[str],
                  devices: Sequence[str], threads: Sequence[int], trials: int,
                  video: bool = False, video_frames: int = 150,
                  floor: bool = False) -> BenchmarkResult:
    """Measures every network under every runtime that applies to it (the public code's
    formulation only to PVTv2 backbones; ONNX, bf16 and the freed-memory row on the CPU
    only) at each thread count; ``video``: the video pipeline of every network that is not
    a teacher, at the first thread count; ``floor``: each network's FLOPs at this machine's matrix-product rates."""
    built = {n: build_network(n) for n in networks}
    jobs = [(n, runtime, device, t) for n in networks for t in threads for device in devices
            for runtime in runtimes
            if (device == 'cpu' or runtime not in CPU_ONLY)
            and (runtime != REFERENCE or has_reference_formulation(built[n]))]
    if REFERENCE in runtimes and not any(map(has_reference_formulation, built.values())):
        raise ValueError('--reference: no network has a PVTv2 backbone, so none has the '
                         'public code\'s formulation to set the others against')
    samples = {job: [] for job in jobs}
    # the video pipeline at the first thread count: its stages overlap on the cores
    video_jobs = [(n, r, threads[0]) for n in networks if n.part != 'teacher'
                  for r in VIDEO_RUNTIMES if r in runtimes] if video else []
    video_samples = {job: [] for job in video_jobs}
    context = multiprocessing.get_context('spawn')
    peaks = {}
    with tempfile.TemporaryDirectory() as clip_dir:
        clip = os.path.join(clip_dir, 'clip.mp4')
        if video_jobs:
            write_clip(clip, settings.shape, video_frames, settings.sample_dir)
        for _ in range(trials):
            for job in jobs:
                samples[job].append(_in_fresh_process(context, measure, settings, *job))
            for n, runtime, t in video_jobs:
                video_samples[(n, runtime, t)].append(
                    _in_fresh_process(context, measure_video, settings, n, runtime, clip, t))
        if floor:
            for t in threads:
                peaks[t] = _in_fresh_process(context, matmul_peaks, t)
    gflops = {n: flops(ProbabilityModel(m).eval(), settings.shape) / 1e9
              for n, m in built.items()}
    params = {n: sum(p.numel() for p in m.parameters()) / 1e6 for n, m in built.items()}
    result = BenchmarkResult(rows=[], peaks=peaks, cpu=describe_cpu(cpu_info()))
    for (n, runtime, device, t), values in samples.items():
        result.rows.append(dict(
            network=n.name, runtime=runtime, device=device, threads=t, params_M=params[n],
            gflops=gflops[n], latency_ms=statistics.median(v[0] for v in values) * 1e3,
            throughput_img_s=settings.batch / statistics.median(v[1] for v in values),
            trials=len(values)))
    shape = settings.shape
    result.video_rows = [
        dict(network=n.name, runtime=runtime, threads=t, source=f'{shape[1]}x{shape[0]} mp4v',
             frames=values[0][2], fps_end_to_end=statistics.median(v[0] for v in values),
             fps_network=statistics.median(v[1] for v in values), trials=len(values))
        for (n, runtime, t), values in video_samples.items()]
    result.floor_rows = [
        dict(network=n.name, threads=t, floor='FLOPs at the matrix-product rate',
             **{f'{p}_peak_gops': rate for p, rate in peaks[t].items()},
             **{f'{p}_floor_ms': floor_ms(gflops[n], rate) for p, rate in peaks[t].items()})
        for t in peaks for n in networks]
    return result


def reference_row(rows: List[dict], network: str, threads: int) -> Optional[dict]:
    """The row a latency is set against: the network's own public formulation, else the
    first network's that has one (the public student), at the same thread count."""
    candidates = [r for r in rows if r['runtime'] == REFERENCE and r['device'] == 'cpu'
                  and r['threads'] == threads]
    own = [r for r in candidates if r['network'] == network]
    return (own or candidates or [None])[0]


def threads_label(threads: int) -> str:
    return f'{threads} thread{"s" if threads > 1 else ""}'


def format_report(result: BenchmarkResult, settings: Settings, reference: bool) -> str:
    """The tables a run prints: latency and throughput, ratios to the reference, the video
    pipeline and the arithmetic floor."""
    shape, lines, rows = settings.shape, [], result.rows
    threads = sorted({r['threads'] for r in rows}, reverse=True)
    lines.append(f'input {shape[0]}x{shape[1]}, {"/".join(map(str, threads))} threads, torch '
                 f'{torch.__version__}, {result.cpu or f"{os.cpu_count()} CPUs visible"}')
    width = max([8] + [len(r['network']) for r in rows])
    lines.append(f'{"network":{width}} {"params(M)":>9} {"GFLOPs":>7} {"runtime":40} '
                 f'{"device":6} {"thr":>3} {"latency b1 (ms)":>15} '
                 f'{"thr. b%d (img/s)" % settings.batch:>17}')
    for r in rows:
        lines.append(f'{r["network"]:{width}} {r["params_M"]:9.3f} {r["gflops"]:7.2f} '
                     f'{r["runtime"]:40} {r["device"]:6} {r["threads"]:3d} '
                     f'{r["latency_ms"]:15.1f} {r["throughput_img_s"]:17.1f}')
    if reference:
        for r in rows:
            ref = reference_row(rows, r['network'], r['threads'])
            if ref is None or r is ref or r['device'] != 'cpu':
                continue
            against = 'reference' if ref['network'] == r['network'] else \
                f'{ref["network"]} reference'
            lines.append(f'{r["network"]}: {r["runtime"]} latency at '
                         f'{threads_label(r["threads"])} = '
                         f'{r["latency_ms"] / ref["latency_ms"]:.2f} x {against}')
    if result.video_rows:
        v0 = result.video_rows[0]
        lines.append(f'video pipeline (decode + preprocess + network + draw + encode, '
                     f'overlapped; {v0["frames"]} frames at {v0["source"]})')
        lines.append(f'{"network":{width}} {"runtime":40} {"thr":>3} '
                     f'{"end to end (frames/s)":>22} {"network alone (frames/s)":>25}')
        for r in result.video_rows:
            lines.append(f'{r["network"]:{width}} {r["runtime"]:40} {r["threads"]:3d} '
                         f'{r["fps_end_to_end"]:22.1f} {r["fps_network"]:25.1f}')
    for t, peaks in result.peaks.items():
        lines.append(f'arithmetic floor: each network\'s FLOPs at ONNX Runtime\'s rate on a '
                     f'large matrix product ({threads_label(t)}: float32 '
                     f'{peaks["float32"]:.0f} GFLOP/s, uint8 x int8 {peaks["int8"]:.0f} '
                     'GOP/s); no runtime gets below it')
        for f in result.floor_rows:
            if f['threads'] != t:
                continue
            ref = reference_row(rows, f['network'], t)
            against = '' if ref is None else 'reference' if ref['network'] == f['network'] \
                else f'{ref["network"]} reference'
            lines.append(f'{f["network"]}: ' + ', '.join(
                f'{p} {f[p + "_floor_ms"]:.1f} ms'
                + (f' = {f[p + "_floor_ms"] / ref["latency_ms"]:.2f} x {against}' if ref
                   else '') for p in peaks))
    return '\n'.join(lines)


def profile_report(settings: Settings, network: Network, threads: int, onnx: bool,
                   int8: bool) -> str:
    """A network's operator profiles: PyTorch's, then ONNX Runtime's (float32 and, with
    ``int8``, the int8 graph's)."""
    from .profiles import format_onnx_profile, onnx_kernel_times, profile_eager
    torch.set_num_threads(threads)
    net = ProbabilityModel(build_network(network)).eval()
    parts = [f'profile of {network.name}', profile_eager(net, settings.shape)]
    for quantised in ([False] if onnx else []) + ([True] if int8 else []):
        parts.append(format_onnx_profile(
            *onnx_kernel_times(net, settings.shape, threads, settings.sample_dir,
                               int8=quantised), int8=quantised))
    return '\n'.join(parts)
