"""A segmenter as an image -> probability module, and its ONNX export with the
preprocessing as metadata, checked against PyTorch on real images."""
import cv2
import numpy as np
import torch

from ..utils.output_files import atomic_output


def polyp_logits(model, inputs: torch.Tensor) -> torch.Tensor:
    """P1 + P2 resized to the input size (B x 1 x H x W) for normalised inputs: the
    ``seg_logits`` of mmseg's ``EncoderDecoder.inference`` before ``postprocess_result``."""
    p1, p2 = model.decode_head(model.extract_feat(inputs))
    return torch.nn.functional.interpolate(p1 + p2, size=inputs.shape[-2:], mode='bilinear',
                                           align_corners=False)


def polyp_probability(model, inputs: torch.Tensor) -> torch.Tensor:
    """sigmoid(P1 + P2) at the input size (B x 1 x H x W) for normalised inputs."""
    return torch.sigmoid(polyp_logits(model, inputs))


class ProbabilityModel(torch.nn.Module):
    """A segmentor as an image -> probability-map module (what is benchmarked)."""

    def __init__(self, segmentor):
        super().__init__()
        self.segmentor = segmentor

    def forward(self, inputs):
        return polyp_probability(self.segmentor, inputs)


class DeployModel(ProbabilityModel):
    """What is exported: the probability map and the logits it comes from. Resizing a
    prediction to another image size must interpolate the logits, as mmseg does, not the
    probabilities, or the mask (logit > 0) moves at its border."""

    def forward(self, inputs):
        logits = polyp_logits(self.segmentor, inputs)
        return torch.sigmoid(logits), logits


# Opset 20 has a native Gelu: with opset 18 the exporter spells GELU out as Erf arithmetic
# that ONNX Runtime does not fuse back (docs/benchmarks.md).
ONNX_OPSET = 20


# Keys of the preprocessing facts that an exported graph carries as ONNX metadata, so that
# a deployment (tools/infer_video.py, tools/infer.py) needs the .onnx file alone.
ONNX_METADATA_KEYS = ('kdas.mean', 'kdas.std', 'kdas.bgr_to_rgb', 'kdas.threshold')


def deploy_metadata(segmentor) -> dict:
    """The preprocessing and threshold of a segmentor, as ONNX metadata strings."""
    pre = segmentor.data_preprocessor
    return {
        'kdas.mean': ','.join(repr(float(v)) for v in pre.mean.flatten()),
        'kdas.std': ','.join(repr(float(v)) for v in pre.std.flatten()),
        'kdas.bgr_to_rgb': str(int(bool(pre.channel_conversion))),
        'kdas.threshold': repr(float(segmentor.decode_head.threshold)),
    }


def write_onnx_metadata(path: str, metadata: dict):
    """Sets ``metadata`` in the graph ``path``, which is replaced atomically."""
    import onnx
    graph = onnx.load(path)
    kept = [p for p in graph.metadata_props if p.key not in metadata]
    del graph.metadata_props[:]
    graph.metadata_props.extend(kept)
    for key, value in metadata.items():
        graph.metadata_props.add(key=key, value=value)
    with atomic_output(path, 'ONNX graph') as tmp:
        onnx.save(graph, tmp)


def export_onnx(model: ProbabilityModel, output_file: str, shape, max_batch: int = 64):
    """Exports with the dynamo exporter (the TorchScript one cannot export Polyp-PVT's
    adaptive pooling): input ``input`` B x 3 x H x W with a dynamic batch; outputs ``prob``
    (and ``logits`` for a :class:`DeployModel`, which also records the preprocessing as
    metadata). The file is written atomically: complete, or as it was before."""
    batch = torch.export.Dim('batch', min=1, max=max_batch)
    deploy = isinstance(model, DeployModel)
    with atomic_output(output_file, 'ONNX graph') as tmp:
        torch.onnx.export(model, (torch.randn(2, 3, *shape), ), tmp, dynamo=True,
                          input_names=['input'],
                          output_names=['prob', 'logits'] if deploy else ['prob'],
                          dynamic_shapes=({0: batch}, ), opset_version=ONNX_OPSET,
                          verbose=False, external_data=False)
        if deploy:
            write_onnx_metadata(tmp, deploy_metadata(model.segmentor))


def preprocess_images(paths, shape, data_preprocessor) -> torch.Tensor:
    """Images resized to ``shape`` and normalised as the model's data preprocessor does."""
    mean = data_preprocessor.mean.view(1, 3, 1, 1)
    std = data_preprocessor.std.view(1, 3, 1, 1)
    batch = []
    for path in paths:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise OSError(f'cannot read {path}')
        img = cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        if data_preprocessor.channel_conversion:
            img = img[..., ::-1]
        batch.append(torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float())
    return (torch.stack(batch) - mean) / std


def verify_onnx(model, output_file, inputs, tolerance=1e-4):
    """(largest |ONNX Runtime - PyTorch| of the probabilities at batch 1 and 2, whether it
    is within ``tolerance``) for the exported ``output_file`` of ``model``."""
    import onnxruntime as ort
    session = ort.InferenceSession(output_file, providers=['CPUExecutionProvider'])
    worst = 0.
    for batch in (inputs[:1], inputs[:2]):
        with torch.no_grad():
            expected = model(batch)[0].numpy()
        got = session.run(['prob'], {'input': batch.numpy()})[0]
        if got.shape != expected.shape:
            raise RuntimeError(f'{output_file}: ONNX output {got.shape} != PyTorch '
                               f'{expected.shape}')
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst, worst <= tolerance
