"""A segmenter as an image -> probability module, and its ONNX export with the
preprocessing as metadata."""
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
    import onnx
    graph = onnx.load(path)
    kept = [p for p in graph.metadata_props if p.key not in metadata]
    del graph.metadata_props[:]
    graph.metadata_props.extend(kept)
    for key, value in metadata.items():
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, path)


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
