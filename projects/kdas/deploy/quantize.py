"""Static INT8 quantisation of an exported segmenter with ONNX Runtime's tools.

Weights are quantised per output channel (int8, symmetric), activations per tensor
(uint8) with ranges calibrated on real images passed through the deployment
preprocessing. Only the operators with weights are quantised (``Conv``, ``Gemm``: every
convolution and linear layer); attention's activation-by-activation products, normalisation,
GELU, softmax, resizing and the sigmoid stay in float32 (see ``QUANTISED_OPS``). The
result keeps the float graph's inputs, outputs and metadata, so every tool that takes the
float32 graph takes it.
"""
import os.path as osp
import tempfile
from typing import Callable, Sequence

import cv2

from ..utils.output_files import atomic_output

# What else was tried (docs/benchmarks.md, "INT8"): quantising attention's MatMuls (q k^T,
# attn v) also quantises the Softmax between them, and ONNX Runtime's QLinearSoftmax took
# 3.6x the float Softmax's time; LayerNorm and GELU have no integer CPU kernels, so a
# quantised tensor feeding them is only dequantised again. The final Resize + Sigmoid
# decide the mask's border, where 8-bit logits would move pixels.
QUANTISED_OPS = ('Conv', 'Gemm')


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
                  preprocess: Callable, op_types: Sequence[str] = QUANTISED_OPS,
                  exclude_nodes: Sequence[str] = (), calibrate_method: str = 'MinMax'):
    """Writes the int8 graph of ``fp32_path`` to ``int8_path``.

    Args:
        calibration_images: image files (training images: never the test split).
        preprocess: BGR image -> 1 x 3 x H x W float32 tensor, the deployment's own.
        op_types, exclude_nodes: what to quantise and which nodes to leave in float32.
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
        float_meta = {p.key: p.value for p in onnx.load(fp32_path).metadata_props}
        graph = onnx.load(partial)
        for key, value in float_meta.items():
            graph.metadata_props.add(key=key, value=value)
        graph.metadata_props.add(key='kdas.quantization',
                                 value=f'int8 static QDQ, per-channel weights, '
                                 f'{len(calibration_images)} calibration images, '
                                 f'{calibrate_method}, ops {",".join(op_types)}')
        with atomic_output(int8_path, 'int8 ONNX graph') as out:
            onnx.save(graph, out)

