"""Static INT8 quantisation of an exported segmenter with ONNX Runtime's tools.

Weights are quantised per output channel (int8, symmetric), activations per tensor
(uint8) with ranges calibrated on real images passed through the deployment
preprocessing. Which operators are quantised depends on the network (see
:func:`quantised_ops`):

- a transformer (the graph holds LayerNormalization or Gelu): only the operators with
  weights (``Conv``, ``Gemm``); attention's activation-by-activation products,
  normalisation, GELU and softmax stay in float32;
- a convolutional network: also the activations and residual sums between convolutions
  (``Relu``, ``Clip`` for ReLU6, ``Add``, ``MaxPool``), so that consecutive convolutions
  hand each other 8-bit tensors instead of dequantising and quantising between them.

In both, the head's attention gates (``Sigmoid``), SAM's ``Softmax`` and products, every
``Resize`` and the final sigmoid stay in float32. The result keeps the float graph's
inputs, outputs and metadata, so every tool that takes the float32 graph takes it.
"""
import os.path as osp
import tempfile
from typing import Callable, List, Optional, Sequence, Tuple

import cv2

from ..utils.output_files import atomic_output

# What else was tried (docs/benchmarks.md, "INT8"): quantising attention's MatMuls (q k^T,
# attn v) also quantises the Softmax between them, and ONNX Runtime's QLinearSoftmax is
# slower than its float Softmax; LayerNorm and GELU have no integer CPU kernels, so a
# quantised tensor feeding them is only dequantised again. The final Resize + Sigmoid
# decide the mask's border, where 8-bit logits would move pixels.
TRANSFORMER_OPS = ('Conv', 'Gemm')
# Between convolutions every float operator costs a DequantizeLinear and a QuantizeLinear;
# ONNX Runtime folds Relu and Clip into the convolution's output range and has integer Add
# and MaxPool kernels. The head's Mul, Concat and Resize gained nothing in int8.
CONVOLUTIONAL_OPS = ('Conv', 'Gemm', 'Relu', 'Clip', 'Add', 'MaxPool')
TRANSFORMER_MARKERS = ('LayerNormalization', 'Gelu')


def logit_nodes(graph) -> List[str]:
    """Names of the nodes that make the logits the graph outputs: walking back from each
    output through Sigmoid and Resize, the first other node (the head's ``P1 + P2``) and the
    convolutions that feed it (the 1 x 1 convolutions to P1 and P2). They stay in float32
    whatever else is quantised: the mask is ``logits > 0`` at full size, and 8-bit logits
    would move its border."""
    producer = {out: node for node in graph.graph.node for out in node.output}
    names = []
    for output in graph.graph.output:
        node = producer.get(output.name)
        while node is not None and node.op_type in ('Sigmoid', 'Resize'):
            node = producer.get(node.input[0])
        if node is None or not node.name:
            continue
        feeding = [producer[i] for i in node.input if i in producer]
        for found in [node] + [n for n in feeding if n.op_type == 'Conv']:
            if found.name and found.name not in names:
                names.append(found.name)
    return names


def quantised_ops(graph) -> Tuple[str, ...]:
    """The operator types to quantise in ``graph`` (an onnx ModelProto): see the module."""
    if any(node.op_type in TRANSFORMER_MARKERS for node in graph.graph.node):
        return TRANSFORMER_OPS
    return CONVOLUTIONAL_OPS


class ImageCalibrationReader:
    """Feeds ONNX Runtime's calibrator one preprocessed image at a time."""

    def __init__(self, paths: Sequence[str], preprocess: Callable, input_name: str = 'input'):
        self.paths = list(paths)
        self.preprocess = preprocess
        self.input_name = input_name
        self.position = 0

    def get_next(self):
        if self.position >= len(self.paths):
            return None
        path = self.paths[self.position]
        self.position += 1
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f'calibration image {path} cannot be read')
        return {self.input_name: self.preprocess(image).numpy()}

    def rewind(self):
        self.position = 0


def quantize_int8(fp32_path: str, int8_path: str, calibration_images: Sequence[str],
                  preprocess: Callable, op_types: Optional[Sequence[str]] = None,
                  exclude_nodes: Sequence[str] = (), calibrate_method: str = 'MinMax'):
    """Writes the int8 graph of ``fp32_path`` to ``int8_path``; returns the operator types
    it quantised.

    Args:
        calibration_images: image files (training images: never the test split).
        preprocess: BGR image -> 1 x 3 x H x W float32 tensor, the deployment's own.
        op_types: what to quantise (default: :func:`quantised_ops` of the graph).
        exclude_nodes: nodes to leave in float32, besides the logits and the
            convolutions that make them (:func:`logit_nodes`), which always are.
        calibrate_method: ``MinMax``, ``Entropy`` or ``Percentile`` (ONNX Runtime's).
    """
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                          QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not calibration_images:
        raise ValueError('quantisation needs calibration images; none were given')

    class Reader(ImageCalibrationReader, CalibrationDataReader):
        pass

    reader = Reader(calibration_images, preprocess)
    float_graph = onnx.load(fp32_path)
    if op_types is None:
        op_types = quantised_ops(float_graph)
    exclude_nodes = list(exclude_nodes) + [n for n in logit_nodes(float_graph)
                                           if n not in exclude_nodes]
    with tempfile.TemporaryDirectory() as tmp:
        prepared = osp.join(tmp, 'prepared.onnx')
        # shape inference and graph clean-up first, as ONNX Runtime recommends
        quant_pre_process(fp32_path, prepared, skip_symbolic_shape=True)
        partial = osp.join(tmp, 'int8.onnx')
        quantize_static(prepared, partial, reader, quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, op_types_to_quantize=list(op_types),
                        nodes_to_exclude=list(exclude_nodes),
                        calibrate_method=getattr(CalibrationMethod, calibrate_method),
                        extra_options=dict(WeightSymmetric=True, ActivationSymmetric=False))
        # the quantiser drops custom metadata: carry the float graph's over
        float_meta = {p.key: p.value for p in float_graph.metadata_props}
        graph = onnx.load(partial)
        for key, value in float_meta.items():
            graph.metadata_props.add(key=key, value=value)
        graph.metadata_props.add(key='kdas.quantization',
                                 value=f'int8 static QDQ, per-channel weights, '
                                 f'{len(calibration_images)} calibration images, '
                                 f'{calibrate_method}, ops {",".join(op_types)}')
        with atomic_output(int8_path, 'int8 ONNX graph') as out:
            onnx.save(graph, out)
    return tuple(op_types)

