"""Loading a trained polyp segmenter for inference and export."""
import torch
from mmengine.config import Config
from mmseg.apis import init_model


def load_segmenter(config, checkpoint=None, device='cpu'):
    """``mmseg.apis.init_model`` for kdas configs: a distillation config yields its
    student (the teacher plays no part in inference)."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg.model.type == 'DistillationSegmentor':
        cfg.model = cfg.model.student
    return init_model(cfg, checkpoint, device=device)


def polyp_probability(model, inputs: torch.Tensor) -> torch.Tensor:
    """sigmoid(P1 + P2) at the input size (B x 1 x H x W) for normalised inputs."""
    p1, p2 = model.decode_head(model.extract_feat(inputs))
    logits = torch.nn.functional.interpolate(p1 + p2, size=inputs.shape[-2:], mode='bilinear',
                                             align_corners=False)
    return torch.sigmoid(logits)
