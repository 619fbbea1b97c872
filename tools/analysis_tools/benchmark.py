"""Parameters, FLOPs, latency and throughput of polyp segmenters, PyTorch and ONNX Runtime.

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] [--threads 2]
        [--shape 352 352] [--batch 16] [--repeats 20] [--trials 3] [--no-onnx]
        [--int8] [--video] [--profile] [--reference] [--tuned-allocator] [--floor]
        [--out results.json]

A distillation config benchmarks its student and its teacher side by side. Each row is
measured ``--trials`` times, each time in a fresh process, the rows taking turns; a
measurement is the median of ``--repeats`` timed calls at batch 1 after warm-up (latency)
and at ``--batch`` (throughput, images per second); the table shows the median over trials.
``--reference`` adds the public reference code's formulation of each network (explicit
matmul-softmax attention, token <-> image transposes with their copies, ``no_grad``
instead of ``inference_mode``) with the same weights, so that the ratio comes from one run.
The row "kdas, freed memory kept" is this project's code as ``tools/infer.py`` runs it on
the CPU, with ``kdas.utils.keep_freed_memory`` (glibc keeps large freed blocks instead of
unmapping them); ``--tuned-allocator`` applies that to every row, so the ratio compares the
code alone. CUDA rows are added when a GPU is present. ``--profile`` prints the operators that
dominate the first network's CPU time (and the int8 graph's, with ``--int8``).

``--int8`` adds the statically quantised graph (kdas.deploy.quantize, calibrated on the
embedded sample's training images; latency does not depend on the calibration's quality).
``--video`` adds the video pipeline of ``tools/infer_video.py`` for each CPU runtime of the
first network: a ``--video-frames`` clip at the input size (mp4v), decoded, segmented,
drawn and encoded to mp4v with the stages overlapped; frames per second end to end and of
the network alone, median over the trials.

``--floor`` measures ONNX Runtime's rate on a large float32 and a large uint8 x int8 matrix
product on this machine, the fastest any layer's arithmetic runs here, and prints each
network's FLOPs at those rates: a latency no runtime of that arithmetic gets below (with
``--reference``, as a fraction of the reference's latency, to set against a target).
"""
import argparse
import contextlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time

from concurrent.futures import ProcessPoolExecutor

import torch
from mmengine.config import Config
from torch.utils.flop_counter import FlopCounterMode

from kdas.apis import DeployModel, ProbabilityModel, export_onnx
from kdas.utils import keep_freed_memory
from kdas.models.backbones.pvt_v2 import (Block, DWConv, MixFFN, OverlapPatchEmbed, PVTv2,
                                          SpatialReductionAttention)

REFERENCE = 'PyTorch eager (reference)'
KEPT = 'PyTorch eager (kdas, freed memory kept)'
ONNX = 'ONNX Runtime'
INT8 = 'ONNX Runtime int8'
SAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'data', 'polyp_sample')


def build_networks(config, checkpoint):
    from mmengine.logging import MMLogger
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    MMLogger.get_current_instance().setLevel('WARNING')  # no per-parameter init report
    cfg = Config.fromfile(config)
    if cfg.model.type == 'DistillationSegmentor':
        cfgs = dict(student=cfg.model.student, teacher=cfg.model.teacher)
    else:
        cfgs = dict(model=cfg.model)
    networks = {}
    for name, model_cfg in cfgs.items():
        # Timing needs no ImageNet weights: the official initialisation stands in for them.
        model_cfg.backbone.init_cfg = None
        model = MODELS.build(model_cfg)
        model.init_weights()
        if checkpoint and name != 'teacher':
            from kdas.utils import load_weights
            load_weights(model, checkpoint, what=name)
        networks[name] = model.eval()
    return networks


def reference_attention(self, x, h, w):
    """The public code's attention: transposes, then q k^T, softmax and @ v written out."""
    b, n, c = x.shape
    heads = self.num_heads
    q = self.q(x).reshape(b, n, heads, c // heads).permute(0, 2, 1, 3)
    if self.sr_ratio > 1:
        x_ = x.permute(0, 2, 1).reshape(b, c, h, w)
        x_ = self.norm(self.sr(x_).reshape(b, c, -1).permute(0, 2, 1))
        kv = self.kv(x_).reshape(b, -1, 2, heads, c // heads).permute(2, 0, 3, 1, 4)
    else:
        kv = self.kv(x).reshape(b, -1, 2, heads, c // heads).permute(2, 0, 3, 1, 4)
    k, v = kv[0], kv[1]
    attn = ((q @ k.transpose(-2, -1)) * (c // heads)**-0.5).softmax(dim=-1)
    return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


def reference_dwconv(self, x, h, w):
    b, n, c = x.shape
    x = self.dwconv(x.transpose(1, 2).view(b, c, h, w))
    return x.flatten(2).transpose(1, 2)


def reference_patch_embed(self, x):
    x = self.proj(x)
    _, _, h, w = x.shape
    return self.norm(x.flatten(2).transpose(1, 2)), h, w


def reference_mlp(self, x, h, w):
    x = self.drop(self.act(self.dwconv(self.fc1(x), h, w)))
    return self.drop(self.fc2(x))


def reference_block(self, x, h, w):
    x = x + self.attn(self.norm1(x), h, w)
    return x + self.mlp(self.norm2(x), h, w)


def reference_backbone(self, x):
    outs = []
    for i in range(1, self.num_stages + 1):
        x, h, w = getattr(self, f'patch_embed{i}')(x)
        for block in getattr(self, f'block{i}'):
            x = block(x, h, w)
        x = getattr(self, f'norm{i}')(x)
        x = x.reshape(x.shape[0], h, w, -1).permute(0, 3, 1, 2).contiguous()
        outs.append(x)
    return tuple(outs)


REFERENCE_FORWARDS = (
    (SpatialReductionAttention, reference_attention),
    (DWConv, reference_dwconv),
    (MixFFN, reference_mlp),
    (Block, reference_block),
    (OverlapPatchEmbed, reference_patch_embed),
    (PVTv2, reference_backbone),
)


@contextlib.contextmanager
def reference_formulation():
    """Swaps in the public code's formulation of each backbone module (same weights, same
    outputs): explicit attention, the token <-> image transposes with their copies, and
    out-of-place activations and residual sums."""
    originals = [(cls, cls.forward) for cls, _ in REFERENCE_FORWARDS]
    for cls, forward in REFERENCE_FORWARDS:
        cls.forward = forward
    try:
        yield
    finally:
        for cls, forward in originals:
            cls.forward = forward


def median_seconds(run, inputs, repeats, sync=lambda: None, warmup=3,
                   reduce=statistics.median):
    for _ in range(warmup):
        run(inputs)
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        run(inputs)
        sync()
        times.append(time.perf_counter() - start)
    return reduce(times)


def eager_runner(net, reference):
    # The reference scripts run under no_grad; ours under inference_mode.
    ctx = reference_formulation if reference else contextlib.nullcontext
    grad_mode = torch.no_grad if reference else torch.inference_mode

    def run(x):
        with ctx(), grad_mode():
            return net(x)

    return run


def export_graph(net, shape, tmp_dir, int8=False):
    """The deployment graph of ``net`` (a ProbabilityModel), quantised with ``int8``."""
    path = os.path.join(tmp_dir, 'model.onnx')
    export_onnx(DeployModel(net.segmentor).eval(), path, shape)
    if not int8:
        return path
    from kdas.deploy.evaluate import calibration_images
    from kdas.deploy.quantize import quantize_int8
    from kdas.deploy.segmenter import OnnxSegmenter
    int8_path = os.path.join(tmp_dir, 'model.int8.onnx')
    quantize_int8(path, int8_path, calibration_images(SAMPLE, 32),
                  OnnxSegmenter(path).preprocess)
    return int8_path


def onnx_session(net, shape, threads, tmp_dir, profile=False, int8=False):
    import onnxruntime as ort
    path = export_graph(net, shape, tmp_dir, int8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(tmp_dir, 'ort')
    return ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def onnx_runner(net, shape, threads, tmp_dir, int8=False):
    session = onnx_session(net, shape, threads, tmp_dir, int8=int8)
    return lambda x: session.run(['prob'], {'input': x.cpu().numpy()})


def measure(args, network, runtime, device):
    """One measurement in a fresh process (see main): latency and throughput."""
    torch.set_num_threads(args.threads)
    if args.tuned_allocator or runtime == KEPT:
        keep_freed_memory()
    net = ProbabilityModel(build_networks(args.config, args.checkpoint)[network])
    net = net.eval().to(device)
    with tempfile.TemporaryDirectory() as tmp_dir:
        if runtime in (ONNX, INT8):
            run = onnx_runner(net, args.shape, args.threads, tmp_dir, int8=runtime == INT8)
        else:
            run = eager_runner(net, reference=runtime == REFERENCE)
        sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
        one = torch.randn(1, 3, *args.shape, device=device)
        many = torch.randn(args.batch, 3, *args.shape, device=device)
        latency = median_seconds(run, one, args.repeats, sync)
        batch_time = median_seconds(run, many, max(3, args.repeats // 4), sync)
    return latency, batch_time


def flops(net, shape):
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        net(torch.randn(1, 3, *shape))
    return counter.get_total_flops()


def profile(net, shape, rows=15):
    from torch.profiler import ProfilerActivity
    x = torch.randn(1, 3, *shape)
    with torch.inference_mode():
        for _ in range(3):
            net(x)
        with torch.profiler.profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(5):
                net(x)
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=rows))


def write_clip(path, shape, frames):
    """A clip of sample images at ``shape`` (H, W), mp4v, 30 frames/s."""
    import cv2
    from kdas.deploy.evaluate import calibration_images
    images = [cv2.resize(cv2.imread(p), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
              for p in calibration_images(SAMPLE, 16)]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 30, (shape[1], shape[0]))
    for i in range(frames):
        writer.write(images[i % len(images)])
    writer.release()


def measure_video(args, network, runtime, clip):
    """The video pipeline's frames per second, end to end and of the network alone."""
    from kdas.deploy.segmenter import OnnxSegmenter, TorchSegmenter
    from kdas.deploy.video import VideoSink, VideoSource, segment_stream
    torch.set_num_threads(args.threads)
    keep_freed_memory()  # as tools/infer_video.py runs on the CPU
    with tempfile.TemporaryDirectory() as tmp_dir:
        if runtime in (ONNX, INT8):
            net = ProbabilityModel(build_networks(args.config, args.checkpoint)[network])
            segmenter = OnnxSegmenter(export_graph(net.eval(), args.shape, tmp_dir,
                                                   int8=runtime == INT8), args.threads)
        else:
            cfg = Config.fromfile(args.config)
            cfg.test_pipeline = [dict(t, scale=args.shape[::-1]) if t['type'] == 'Resize'
                                 else t for t in cfg.test_pipeline]
            segmenter = TorchSegmenter(cfg, args.checkpoint)
        source = VideoSource(clip)
        stats = segment_stream(segmenter, source.frames(),
                               VideoSink(os.path.join(tmp_dir, 'out.mp4'), source.fps))
        source.release()
    if stats.errors:
        raise RuntimeError('; '.join(stats.errors))
    return stats.fps, stats.network_fps, stats.frames_written


def profile_onnx(net, shape, threads, rows=15, int8=False):
    """ONNX Runtime's own profiler, kernel time summed per operator type over 5 runs."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        session = onnx_session(net, shape, threads, tmp_dir, profile=True, int8=int8)
        x = torch.randn(1, 3, *shape).numpy()
        for _ in range(8):
            session.run(None, {'input': x})
        with open(session.end_profiling()) as f:
            events = json.load(f)
    # the first 3 runs are warm-up: count the kernels of the last 5 only
    runs = sorted(e['ts'] for e in events if e.get('name') == 'model_run')
    per_op = {}
    for event in events:
        if (event.get('cat') == 'Node' and event['name'].endswith('_kernel_time')
                and event['ts'] >= runs[3]):
            op = event['args']['op_name']
            per_op[op] = per_op.get(op, 0) + event['dur']
    total = sum(per_op.values())
    print(f'{INT8 if int8 else ONNX}: {total / 5 / 1e3:.1f} ms of kernel time per run '
          '(5 runs after warm-up)')
    for op, dur in sorted(per_op.items(), key=lambda kv: -kv[1])[:rows]:
        print(f'{op:32} {100 * dur / total:5.1f} %')


def matmul_peaks(threads, n=1024, repeats=10):
    """ONNX Runtime's rate on one large square matrix product, float32 and uint8 x int8:
    no layer of a network runs its arithmetic faster on this machine, so a network's
    FLOPs at these rates bound its latency from below."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    cases = dict(
        float32=('MatMul', TensorProto.FLOAT, TensorProto.FLOAT,
                 rng.random((n, n), np.float32), rng.random((n, n), np.float32)),
        int8=('MatMulInteger', TensorProto.UINT8, TensorProto.INT32,
              rng.integers(0, 256, (n, n), np.uint8), rng.integers(-128, 128, (n, n), np.int8)))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    peaks = {}
    for name, (op, in_type, out_type, a, b) in cases.items():
        graph = helper.make_graph(
            [helper.make_node(op, ['a', 'b'], ['y'])], name,
            [helper.make_tensor_value_info('a', in_type, [n, n])],
            [helper.make_tensor_value_info('y', out_type, [n, n])],
            [numpy_helper.from_array(b, 'b')])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=['CPUExecutionProvider'])
        # a peak: the fastest call (another process on the cores only ever slows one down)
        seconds = median_seconds(lambda x: session.run(None, {'a': x}), a, repeats, reduce=min)
        peaks[name] = 2 * n**3 / seconds / 1e9
    return peaks


def main(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark polyp segmenters')
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--shape', type=int, nargs=2, default=[352, 352])
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--repeats', type=int, default=20, help='timed calls per trial')
    parser.add_argument('--trials', type=int, default=3,
                        help='fresh-process measurements per row (the median is reported)')
    parser.add_argument('--no-onnx', action='store_true')
    parser.add_argument('--int8', action='store_true', help='add the int8 ONNX graph')
    parser.add_argument('--video', action='store_true',
                        help='add the video pipeline (tools/infer_video.py) per CPU runtime')
    parser.add_argument('--video-frames', type=int, default=150)
    parser.add_argument('--reference', action='store_true',
                        help='also time the public code\'s formulation, in the same run')
    parser.add_argument('--tuned-allocator', action='store_true',
                        help='keep_freed_memory() in every measuring process')
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--floor', action='store_true',
                        help='the latency floor each network\'s FLOPs set at ONNX Runtime\'s '
                        'large-matrix-product rates (float32 and int8) on this machine')
    parser.add_argument('--out', help='write the rows as JSON')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    shape = args.shape = tuple(args.shape)
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])

    # Every measurement runs in a fresh process, and the runtimes take turns over
    # --trials rounds: in one process, oneDNN's caches and the allocator carry state from
    # one formulation to the next and skew whichever runs second.
    runtimes = ['PyTorch eager (kdas)'] + ([] if args.tuned_allocator else [KEPT]) + (
        [REFERENCE] if args.reference else []) + ([] if args.no_onnx else [ONNX]) + (
            [INT8] if args.int8 else [])
    networks = build_networks(args.config, args.checkpoint)
    jobs = [(name, runtime, device) for name in networks for device in devices
            for runtime in runtimes if device == 'cpu' or runtime not in (ONNX, INT8, KEPT)]
    samples = {job: [] for job in jobs}
    first = next(iter(networks))
    video_runtimes = [r for r in ('PyTorch eager (kdas)', ONNX, INT8)
                      if r in runtimes] if args.video else []
    video = {runtime: [] for runtime in video_runtimes}
    context = multiprocessing.get_context('spawn')
    with tempfile.TemporaryDirectory() as clip_dir:
        clip = os.path.join(clip_dir, 'clip.mp4')
        if video:
            write_clip(clip, shape, args.video_frames)
        for _ in range(args.trials):
            for job in jobs:
                with ProcessPoolExecutor(1, mp_context=context) as pool:
                    samples[job].append(pool.submit(measure, args, *job).result())
            for runtime in video:
                with ProcessPoolExecutor(1, mp_context=context) as pool:
                    video[runtime].append(
                        pool.submit(measure_video, args, first, runtime, clip).result())
        if args.floor:
            with ProcessPoolExecutor(1, mp_context=context) as pool:
                peaks = pool.submit(matmul_peaks, args.threads).result()
    gflops = {name: flops(ProbabilityModel(net).eval(), shape) / 1e9
              for name, net in networks.items()}
    rows = []
    for (name, runtime, device), values in samples.items():
        rows.append(dict(network=name, runtime=runtime, device=device,
                         params_M=sum(p.numel() for p in networks[name].parameters()) / 1e6,
                         gflops=gflops[name],
                         latency_ms=statistics.median(v[0] for v in values) * 1e3,
                         throughput_img_s=args.batch / statistics.median(v[1] for v in values),
                         trials=len(values)))
    video_rows = [dict(network=first, runtime=runtime, source=f'{shape[1]}x{shape[0]} mp4v',
                       frames=values[0][2],
                       fps_end_to_end=statistics.median(v[0] for v in values),
                       fps_network=statistics.median(v[1] for v in values), trials=len(values))
                  for runtime, values in video.items()]
    floor_rows = [dict(network=name, floor='FLOPs at the matrix-product rate',
                       **{f'{p}_peak_gops': rate for p, rate in peaks.items()},
                       **{f'{p}_floor_ms': g / rate * 1e3 for p, rate in peaks.items()})
                  for name, g in gflops.items()] if args.floor else []
    if args.profile:
        profile(ProbabilityModel(networks[first]).eval(), shape)
        if not args.no_onnx:
            profile_onnx(ProbabilityModel(networks[first]).eval(), shape, args.threads)
        if args.int8:
            profile_onnx(ProbabilityModel(networks[first]).eval(), shape, args.threads,
                         int8=True)

    header = (f'{"network":8} {"params(M)":>9} {"GFLOPs":>7} {"runtime":40} {"device":6} '
              f'{"latency b1 (ms)":>15} {"thr. b%d (img/s)" % args.batch:>17}')
    print(f'input {shape[0]}x{shape[1]}, {args.threads} threads, torch {torch.__version__}, '
          f'{os.cpu_count()} CPUs visible')
    print(header)
    for r in rows:
        print(f'{r["network"]:8} {r["params_M"]:9.3f} {r["gflops"]:7.2f} {r["runtime"]:40} '
              f'{r["device"]:6} {r["latency_ms"]:15.1f} {r["throughput_img_s"]:17.1f}')
    if args.reference:
        for name in dict.fromkeys(r['network'] for r in rows):
            ref = next(r for r in rows if r['network'] == name and 'reference' in r['runtime']
                       and r['device'] == 'cpu')
            for r in rows:
                if r['network'] == name and r['device'] == 'cpu' and r is not ref:
                    print(f'{name}: {r["runtime"]} latency = '
                          f'{r["latency_ms"] / ref["latency_ms"]:.2f} x reference')
    if video_rows:
        print(f'video pipeline ({first}; decode + preprocess + network + draw + encode, '
              f'overlapped; {video_rows[0]["frames"]} frames at {video_rows[0]["source"]})')
        print(f'{"runtime":40} {"end to end (frames/s)":>22} {"network alone (frames/s)":>25}')
        for r in video_rows:
            print(f'{r["runtime"]:40} {r["fps_end_to_end"]:22.1f} {r["fps_network"]:25.1f}')
    if floor_rows:
        print(f'arithmetic floor: each network\'s FLOPs at ONNX Runtime\'s rate on a large '
              f'matrix product ({args.threads} threads: float32 '
              f'{peaks["float32"]:.0f} GFLOP/s, uint8 x int8 {peaks["int8"]:.0f} GOP/s); '
              'no runtime gets below it')
        for f in floor_rows:
            ref = next((r['latency_ms'] for r in rows if r['network'] == f['network']
                        and r['runtime'] == REFERENCE and r['device'] == 'cpu'), None)
            print(f'{f["network"]}: ' + ', '.join(
                f'{p} {f[p + "_floor_ms"]:.1f} ms'
                + (f' = {f[p + "_floor_ms"] / ref:.2f} x reference' if ref else '')
                for p in peaks))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows + video_rows + floor_rows, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
