"""Where a network's CPU time goes: PyTorch's operator table, and ONNX Runtime's kernel
time per operator type."""
import json
import tempfile

import torch

from .measurements import INT8, ONNX, onnx_session


def profile_eager(net, shape, rows: int = 15) -> str:
    """PyTorch's operator table (self CPU time) over 5 calls after 3 warm-up calls."""
    from torch.profiler import ProfilerActivity
    x = torch.randn(1, 3, *shape)
    with torch.inference_mode():
        for _ in range(3):
            net(x)
        with torch.profiler.profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(5):
                net(x)
    return prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=rows)


def onnx_kernel_times(net, shape, threads: int, sample_dir: str, int8: bool = False):
    """(ms of kernel time per run, {operator type: share of it}), ONNX Runtime's own
    profiler over 5 runs after 3 warm-up runs."""
    with tempfile.TemporaryDirectory() as tmp_dir:
        session = onnx_session(net, shape, threads, tmp_dir, sample_dir, profile=True,
                               int8=int8)
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
    shares = {op: dur / total for op, dur in sorted(per_op.items(), key=lambda kv: -kv[1])}
    return total / 5 / 1e3, shares


def format_onnx_profile(ms_per_run: float, shares: dict, int8: bool = False,
                        rows: int = 15) -> str:
    lines = [f'{INT8 if int8 else ONNX}: {ms_per_run:.1f} ms of kernel time per run '
             '(5 runs after warm-up)']
    lines += [f'{op:32} {100 * share:5.1f} %' for op, share in list(shares.items())[:rows]]
    return '\n'.join(lines)
