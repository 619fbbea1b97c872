"""Parameters, FLOPs, latency and throughput of polyp segmenters, PyTorch and ONNX Runtime.

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] [--threads 2]
        [--shape 352 352] [--batch 16] [--repeats 20] [--no-onnx] [--profile]
        [--reference] [--out results.json]

A distillation config benchmarks its student and its teacher side by side. Latency is the
median of ``--repeats`` timed runs at batch 1 after warm-up; throughput is images per second
at ``--batch`` (median run). ``--reference`` adds the public reference code's formulation
of each network (explicit matmul-softmax attention, eager PyTorch, no inference mode) in
the same process, so that the ratio is measured in one run. CUDA rows are added when a GPU
is present. ``--profile`` prints the operators that dominate the student's CPU time.
"""
import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch.utils.flop_counter import FlopCounterMode

from kdas.apis import polyp_probability
from kdas.models.backbones.pvt_v2 import SpatialReductionAttention


def build_networks(config, checkpoint):
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    if cfg.model.type == 'DistillationSegmentor':
        cfgs = dict(student=cfg.model.student, teacher=cfg.model.teacher)
    else:
        cfgs = dict(model=cfg.model)
    networks = {}
    for name, model_cfg in cfgs.items():
        model = MODELS.build(model_cfg)
        model.init_weights()
        if checkpoint and name != 'teacher':
            from kdas.utils import load_weights
            load_weights(model, checkpoint, what=name)
        networks[name] = model.eval()
    return networks


def explicit_attention_forward(self, x, h, w):
    """The public code's attention: q k^T, softmax and @ v written out."""
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


@contextlib.contextmanager
def reference_formulation():
    original = SpatialReductionAttention.forward
    SpatialReductionAttention.forward = explicit_attention_forward
    try:
        yield
    finally:
        SpatialReductionAttention.forward = original


class Probability(torch.nn.Module):

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return polyp_probability(self.model, x)


def timed(fn, repeats, warmup=3, sync=lambda: None):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_rows(net, shape, batch, repeats, device, reference=False):
    net = net.to(device)
    sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    x1 = torch.randn(1, 3, *shape, device=device)
    xb = torch.randn(batch, 3, *shape, device=device)
    # The reference scripts run under no_grad; ours under inference_mode.
    mode = torch.no_grad if reference else torch.inference_mode
    with mode():
        latency = timed(lambda: net(x1), repeats, sync=sync)
        batch_time = timed(lambda: net(xb), max(3, repeats // 4), sync=sync)
    return dict(latency_ms=latency * 1e3, throughput_img_s=batch / batch_time)


def onnx_rows(net, shape, batch, repeats, threads):
    import onnxruntime as ort
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'model.onnx')
        dim = torch.export.Dim('batch', min=1, max=64)
        torch.onnx.export(net, (torch.randn(2, 3, *shape), ), path, dynamo=True,
                          input_names=['input'], output_names=['prob'],
                          dynamic_shapes=({0: dim}, ), opset_version=18, verbose=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
        x1 = torch.randn(1, 3, *shape).numpy()
        xb = torch.randn(batch, 3, *shape).numpy()
        latency = timed(lambda: session.run(None, {'input': x1}), repeats)
        batch_time = timed(lambda: session.run(None, {'input': xb}), max(3, repeats // 4))
    return dict(latency_ms=latency * 1e3, throughput_img_s=batch / batch_time)


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


def main(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark polyp segmenters')
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--shape', type=int, nargs=2, default=[352, 352])
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--no-onnx', action='store_true')
    parser.add_argument('--reference', action='store_true',
                        help='also time the public code\'s formulation, in the same run')
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--out', help='write the rows as JSON')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    shape = tuple(args.shape)
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])

    rows = []
    for name, model in build_networks(args.config, args.checkpoint).items():
        net = Probability(model).eval()
        base = dict(network=name, params_M=sum(p.numel() for p in model.parameters()) / 1e6,
                    gflops=flops(net, shape) / 1e9)
        variants = [('kdas', False)] + ([('reference', True)] if args.reference else [])
        for label, reference in variants:
            for device in devices:
                ctx = reference_formulation() if reference else contextlib.nullcontext()
                with ctx:
                    timing = torch_rows(net, shape, args.batch, args.repeats, device, reference)
                rows.append(dict(base, runtime=f'PyTorch eager ({label})', device=device,
                                 **timing))
                net.to('cpu')
        if not args.no_onnx:
            rows.append(dict(base, runtime='ONNX Runtime', device='cpu',
                             **onnx_rows(net, shape, args.batch, args.repeats, args.threads)))
        if args.profile and name != 'teacher':
            profile(net, shape)

    header = (f'{"network":8} {"params(M)":>9} {"GFLOPs":>7} {"runtime":28} {"device":6} '
              f'{"latency b1 (ms)":>15} {"thr. b%d (img/s)" % args.batch:>17}')
    print(f'input {shape[0]}x{shape[1]}, {args.threads} threads, torch {torch.__version__}, '
          f'{os.cpu_count()} CPUs visible')
    print(header)
    for r in rows:
        print(f'{r["network"]:8} {r["params_M"]:9.3f} {r["gflops"]:7.2f} {r["runtime"]:28} '
              f'{r["device"]:6} {r["latency_ms"]:15.1f} {r["throughput_img_s"]:17.1f}')
    if args.reference:
        for name in dict.fromkeys(r['network'] for r in rows):
            ref = next(r for r in rows if r['network'] == name and 'reference' in r['runtime']
                       and r['device'] == 'cpu')
            for r in rows:
                if r['network'] == name and r['device'] == 'cpu' and r is not ref:
                    print(f'{name}: {r["runtime"]} latency = '
                          f'{r["latency_ms"] / ref["latency_ms"]:.2f} x reference')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
