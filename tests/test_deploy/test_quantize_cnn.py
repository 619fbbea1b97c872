"""The whole CNN student in int8: on a MobileNetV2 student trained inside the test, the
quantiser chooses the convolutional operator set, so that its activations and residual sums
take 8-bit tensors straight from the convolutions; only the head's float operators and the
logits' sum keep quantise / dequantise pairs around them. A transformer keeps Conv and Gemm
only."""
import os.path as osp

import onnx
import pytest
from onnx import TensorProto, helper

from kdas.deploy.evaluate import calibration_images
from kdas.deploy.quantize import (CONVOLUTIONAL_OPS, TRANSFORMER_OPS, logit_nodes,
                                  quantize_int8, quantised_ops)
from kdas.deploy.segmenter import OnnxSegmenter
from tests.conftest import SAMPLE, run_tool, write_tiny_config

STUDENT = 'configs/quickstart/polyppvt_mobilenetv2_sample.py'


@pytest.fixture(scope='module')
def cnn_graph(tmp_path_factory):
    """The float32 graph of a MobileNetV2 student trained 48 iterations at 64 px."""
    root = tmp_path_factory.mktemp('cnn')
    cfg = write_tiny_config(root, STUDENT, size=64, iters=48)
    run_tool('tools/train.py', cfg, '--work-dir', str(root / 'work'))
    path = str(root / 'student.onnx')
    run_tool('tools/deployment/pytorch2onnx.py', cfg, str(root / 'work' / 'iter_48.pth'),
             '--output-file', path, '--shape', '64', '64', '--verify')
    return path


def graph_of(*ops):
    nodes = [helper.make_node(op, ['x'], ['x']) for op in ops]
    value = helper.make_tensor_value_info('x', TensorProto.FLOAT, [1])
    return helper.make_model(helper.make_graph(nodes, 'g', [value], [value]))


def test_the_operator_set_follows_the_network():
    assert quantised_ops(graph_of('Conv', 'LayerNormalization', 'Softmax')) == TRANSFORMER_OPS
    assert quantised_ops(graph_of('Conv', 'Gelu')) == TRANSFORMER_OPS
    # the Polyp-PVT head has a Softmax in every student: it does not make one a transformer
    assert quantised_ops(graph_of('Conv', 'Clip', 'Add', 'Softmax')) == CONVOLUTIONAL_OPS


def float_islands(graph, op_type):
    """The ``op_type`` nodes of a QDQ graph whose input does not come from a
    DequantizeLinear: ONNX Runtime runs those in float32."""
    producer = {out: node.op_type for node in graph.graph.node for out in node.output}
    return [n.name for n in graph.graph.node if n.op_type == op_type
            and producer.get(n.input[0]) != 'DequantizeLinear']


def test_the_cnn_student_quantises_whole_and_stays_accurate(tmp_path, cnn_graph):
    auto = str(tmp_path / 'student.int8.onnx')
    result = run_tool('tools/deployment/quantize_onnx.py', cnn_graph, '--output-file', auto,
                      '--calib-data', SAMPLE, '--calib-count', '16', '--verify-data', SAMPLE,
                      '--tolerance', '1', check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f'wrote {auto}: {", ".join(CONVOLUTIONAL_OPS)} in int8' in result.stdout
    graph, float_graph = onnx.load(auto), onnx.load(cnn_graph)

    def count(g, op):
        return sum(n.op_type == op for n in g.graph.node)

    # MobileNetV2's ReLU6 (Clip) and residual sums (Add)
    assert count(float_graph, 'Clip') >= 30 and count(float_graph, 'Add') >= 10
    # every ReLU6 and ReLU folds into its convolution's 8-bit output range
    assert count(graph, 'Clip') == count(graph, 'Relu') == 0
    # every residual sum takes 8-bit tensors but P1 + P2, the logits the mask thresholds
    assert count(graph, 'Add') == count(float_graph, 'Add')
    final = logit_nodes(float_graph)
    assert [n.op_type for n in float_graph.graph.node if n.name in final] == ['Conv', 'Conv',
                                                                            'Add']
    assert float_islands(graph, 'Add') == [n for n in final if n.startswith('node_add')]
    # the logits come from float32 convolutions: no QuantizeLinear after any of them
    consumers = {i: n.op_type for n in graph.graph.node for i in n.input}
    outputs = {n.name: n.output[0] for n in graph.graph.node}
    assert all(consumers.get(outputs[name]) != 'QuantizeLinear' for name in final)
    meta = {p.key: p.value for p in graph.metadata_props}
    assert f'ops {",".join(CONVOLUTIONAL_OPS)}' in meta['kdas.quantization']

    # the transformer's set on the same graph leaves every ReLU6 in float32, between a
    # dequantise and a quantise
    weights_only = str(tmp_path / 'conv-only.int8.onnx')
    quantize_int8(cnn_graph, weights_only, calibration_images(SAMPLE, 16),
                  OnnxSegmenter(cnn_graph).preprocess, op_types=TRANSFORMER_OPS)
    conv_only = onnx.load(weights_only)
    assert count(conv_only, 'Clip') == count(float_graph, 'Clip')  # each a float32 node
    assert count(conv_only, 'QuantizeLinear') > count(graph, 'QuantizeLinear')

    # int8 masks agree with float32 masks on the sample's test images (the last column)
    rows = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[1] in ('float32', 'int8'):
            rows[(parts[0], parts[1])] = [float(v) for v in parts[2:]]
    assert rows[('Kvasir', 'int8')][3] > 0.8
    assert abs(rows[('Kvasir', 'float32')][0] - rows[('Kvasir', 'int8')][0]) < 0.05
    assert osp.getsize(auto) < osp.getsize(cnn_graph) / 2  # 8-bit weights
