"""Loading a trained polyp segmenter for inference and export."""
import torch
from mmengine.config import Config
from mmseg.apis import init_model

from .datasets.polyp import PolypDataset
from .utils.checkpoint import load_weights


def load_segmenter(config, checkpoint=None, device='cpu'):
    """``mmseg.apis.init_model`` for kdas configs, loading the checkpoint strictly.

    A distillation config yields its student (the teacher plays no part in inference).
    ``init_model`` loads with ``strict=False``, so a checkpoint of another architecture
    would run with random weights; here a missing, unexpected or mis-shaped key raises a
    ``RuntimeError`` naming the file and the keys (``FileNotFoundError`` for no file).
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg.model.type == 'DistillationSegmentor':
        cfg.model = cfg.model.student
    model = init_model(cfg, None, device='cpu')
    if checkpoint is not None:
        meta = load_weights(model, checkpoint, what='segmentor',
                            hint='Is it a checkpoint of this config\'s network?').get('meta')
        model.dataset_meta = (meta or {}).get('dataset_meta') or dict(PolypDataset.METAINFO)
    return model.to(device).eval()


def polyp_probability(model, inputs: torch.Tensor) -> torch.Tensor:
    """sigmoid(P1 + P2) at the input size (B x 1 x H x W) for normalised inputs."""
    p1, p2 = model.decode_head(model.extract_feat(inputs))
    logits = torch.nn.functional.interpolate(p1 + p2, size=inputs.shape[-2:], mode='bilinear',
                                             align_corners=False)
    return torch.sigmoid(logits)


class ProbabilityModel(torch.nn.Module):
    """A segmentor as an image -> probability-map module (what is exported and benchmarked)."""

    def __init__(self, segmentor):
        super().__init__()
        self.segmentor = segmentor

    def forward(self, inputs):
        return polyp_probability(self.segmentor, inputs)


# Opset 20 has a native Gelu: with opset 18 the exporter spells GELU out as Erf arithmetic
# that ONNX Runtime does not fuse back, and the student runs about 8 % slower.
ONNX_OPSET = 20


def export_onnx(model: ProbabilityModel, output_file: str, shape, max_batch: int = 64):
    """Exports with the dynamo exporter (the TorchScript one cannot export Polyp-PVT's
    adaptive pooling): input ``input`` B x 3 x H x W with a dynamic batch, output ``prob``."""
    batch = torch.export.Dim('batch', min=1, max=max_batch)
    torch.onnx.export(model, (torch.randn(2, 3, *shape), ), output_file, dynamo=True,
                      input_names=['input'], output_names=['prob'],
                      dynamic_shapes=({0: batch}, ), opset_version=ONNX_OPSET, verbose=False)
