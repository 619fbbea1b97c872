"""A benchmark run: every (network, runtime, device) measured ``trials`` times, each time in
a fresh process, the rows taking turns, then reported as rows with the median over trials.

In one process, oneDNN's caches and the allocator carry state from one formulation to the
next and skew whichever runs second: hence a fresh process per measurement.
"""
import multiprocessing
import os
import statistics
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

import torch

from ..deploy.export import ProbabilityModel
from .arithmetic_floor import floor_ms, matmul_peaks
from .measurements import (EAGER, INT8, KEPT, ONNX, ONNX_RUNTIMES, REFERENCE, Settings,
                           build_networks, flops, measure, measure_video, write_clip)

VIDEO_RUNTIMES = (EAGER, ONNX, INT8)


def runtimes_for(reference: bool, onnx: bool, int8: bool, tuned_allocator: bool) -> List[str]:
    """The runtimes a run measures, in table order."""
    return [EAGER] + ([] if tuned_allocator else [KEPT]) + ([REFERENCE] if reference else []) \
        + ([ONNX] if onnx else []) + ([INT8] if int8 else [])


@dataclass
class BenchmarkResult:
    rows: List[dict]
    video_rows: List[dict] = field(default_factory=list)
    floor_rows: List[dict] = field(default_factory=list)
    peaks: Dict[str, float] = field(default_factory=dict)


def _in_fresh_process(context, fn, *args):
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(fn, *args).result()


def run_benchmark(settings: Settings, runtimes: Sequence[str], devices: Sequence[str],
                  trials: int, video: bool = False, video_frames: int = 150,
                  floor: bool = False) -> BenchmarkResult:
    networks = build_networks(settings.config, settings.checkpoint)
    jobs = [(name, runtime, device) for name in networks for device in devices
            for runtime in runtimes if device == 'cpu' or runtime not in ONNX_RUNTIMES + (KEPT, )]
    samples = {job: [] for job in jobs}
    first = next(iter(networks))
    video_samples = {r: [] for r in VIDEO_RUNTIMES if r in runtimes} if video else {}
    context = multiprocessing.get_context('spawn')
    peaks = {}
    with tempfile.TemporaryDirectory() as clip_dir:
        clip = os.path.join(clip_dir, 'clip.mp4')
        if video_samples:
            write_clip(clip, settings.shape, video_frames, settings.sample_dir)
        for _ in range(trials):
            for job in jobs:
                samples[job].append(_in_fresh_process(context, measure, settings, *job))
            for runtime in video_samples:
                video_samples[runtime].append(
                    _in_fresh_process(context, measure_video, settings, first, runtime, clip))
        if floor:
            peaks = _in_fresh_process(context, matmul_peaks, settings.threads)
    gflops = {name: flops(ProbabilityModel(net).eval(), settings.shape) / 1e9
              for name, net in networks.items()}
    result = BenchmarkResult(rows=[], peaks=peaks)
    for (name, runtime, device), values in samples.items():
        result.rows.append(dict(
            network=name, runtime=runtime, device=device,
            params_M=sum(p.numel() for p in networks[name].parameters()) / 1e6,
            gflops=gflops[name], latency_ms=statistics.median(v[0] for v in values) * 1e3,
            throughput_img_s=settings.batch / statistics.median(v[1] for v in values),
            trials=len(values)))
    shape = settings.shape
    result.video_rows = [
        dict(network=first, runtime=runtime, source=f'{shape[1]}x{shape[0]} mp4v',
             frames=values[0][2], fps_end_to_end=statistics.median(v[0] for v in values),
             fps_network=statistics.median(v[1] for v in values), trials=len(values))
        for runtime, values in video_samples.items()]
    if floor:
        result.floor_rows = [
            dict(network=name, floor='FLOPs at the matrix-product rate',
                 **{f'{p}_peak_gops': rate for p, rate in peaks.items()},
                 **{f'{p}_floor_ms': floor_ms(g, rate) for p, rate in peaks.items()})
            for name, g in gflops.items()]
    return result


def format_report(result: BenchmarkResult, settings: Settings, reference: bool) -> str:
    """The tables a run prints: latency and throughput, ratios to the reference, the video
    pipeline and the arithmetic floor."""
    shape, lines = settings.shape, []
    lines.append(f'input {shape[0]}x{shape[1]}, {settings.threads} threads, torch '
                 f'{torch.__version__}, {os.cpu_count()} CPUs visible')
    lines.append(f'{"network":8} {"params(M)":>9} {"GFLOPs":>7} {"runtime":40} {"device":6} '
                 f'{"latency b1 (ms)":>15} {"thr. b%d (img/s)" % settings.batch:>17}')
    rows = result.rows
    for r in rows:
        lines.append(f'{r["network"]:8} {r["params_M"]:9.3f} {r["gflops"]:7.2f} '
                     f'{r["runtime"]:40} {r["device"]:6} {r["latency_ms"]:15.1f} '
                     f'{r["throughput_img_s"]:17.1f}')
    if reference:
        for name in dict.fromkeys(r['network'] for r in rows):
            ref = next(r for r in rows if r['network'] == name and r['runtime'] == REFERENCE
                       and r['device'] == 'cpu')
            for r in rows:
                if r['network'] == name and r['device'] == 'cpu' and r is not ref:
                    lines.append(f'{name}: {r["runtime"]} latency = '
                                 f'{r["latency_ms"] / ref["latency_ms"]:.2f} x reference')
    if result.video_rows:
        v0 = result.video_rows[0]
        lines.append(f'video pipeline ({v0["network"]}; decode + preprocess + network + draw + '
                     f'encode, overlapped; {v0["frames"]} frames at {v0["source"]})')
        lines.append(f'{"runtime":40} {"end to end (frames/s)":>22} '
                     f'{"network alone (frames/s)":>25}')
        for r in result.video_rows:
            lines.append(f'{r["runtime"]:40} {r["fps_end_to_end"]:22.1f} '
                         f'{r["fps_network"]:25.1f}')
    if result.floor_rows:
        peaks = result.peaks
        lines.append(f'arithmetic floor: each network\'s FLOPs at ONNX Runtime\'s rate on a '
                     f'large matrix product ({settings.threads} threads: float32 '
                     f'{peaks["float32"]:.0f} GFLOP/s, uint8 x int8 {peaks["int8"]:.0f} GOP/s); '
                     'no runtime gets below it')
        for f in result.floor_rows:
            ref = next((r['latency_ms'] for r in rows if r['network'] == f['network']
                        and r['runtime'] == REFERENCE and r['device'] == 'cpu'), None)
            lines.append(f'{f["network"]}: ' + ', '.join(
                f'{p} {f[p + "_floor_ms"]:.1f} ms'
                + (f' = {f[p + "_floor_ms"] / ref:.2f} x reference' if ref else '')
                for p in peaks))
    return '\n'.join(lines)


def profile_report(settings: Settings, onnx: bool, int8: bool) -> str:
    """The first network's operator profiles: PyTorch's, then ONNX Runtime's (float32 and,
    with ``int8``, the int8 graph's)."""
    from .profiles import format_onnx_profile, onnx_kernel_times, profile_eager
    net = ProbabilityModel(next(iter(build_networks(settings.config,
                                                    settings.checkpoint).values()))).eval()
    parts = [profile_eager(net, settings.shape)]
    for quantised in ([False] if onnx else []) + ([True] if int8 else []):
        parts.append(format_onnx_profile(
            *onnx_kernel_times(net, settings.shape, settings.threads, settings.sample_dir,
                               int8=quantised), int8=quantised))
    return '\n'.join(parts)
