"""Loading a trained polyp segmenter for inference and export, strictly."""
from mmengine.config import Config
from mmseg.apis import init_model

from ..datasets.polyp import PolypDataset
from ..utils.checkpoint import load_weights


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
