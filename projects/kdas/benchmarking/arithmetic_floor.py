"""The fastest this machine runs arithmetic through ONNX Runtime, and the latency floor a
network's FLOPs set at that rate.

The rate is that of one large square matrix product, float32 and uint8 x int8: no layer of
a network runs its arithmetic faster here, so a network's FLOPs at these rates bound its
latency from below, whatever the runtime.
"""
from typing import Dict

from .timing import median_seconds


def matmul_peaks(threads: int, n: int = 1024, repeats: int = 10) -> Dict[str, float]:
    """{'float32': GFLOP/s, 'int8': GOP/s} of ONNX Runtime on an n x n matrix product."""
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


def floor_ms(gflops: float, peak: float) -> float:
    """The latency ``gflops`` of arithmetic take at ``peak`` G(FL)OP/s, in ms."""
    return gflops / peak * 1e3
