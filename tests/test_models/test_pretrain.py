import os.path as osp

import torch
from mmengine.config import Config

from kdas.utils.official_format import convert_pvt_v2
from tests.conftest import REPO


def test_classification_config_builds_in_mmpretrain_and_converts_for_segmentation():
    import kdas.pretrain  # noqa: F401
    from mmpretrain.registry import MODELS
    from mmpretrain.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(osp.join(REPO, 'configs/pvtv2_cls/pvtv2-b0_8xb128_in1k.py'))
    with MODELS.switch_scope_and_registry('mmpretrain') as registry:
        classifier = registry.build(cfg.model)
    classifier.eval()
    with torch.no_grad():
        logits = classifier(torch.randn(2, 3, 64, 64), mode='tensor')
    assert logits.shape == (2, 1000)
    # What mmpretrain saves becomes a segmentation backbone checkpoint.
    converted = convert_pvt_v2(classifier.state_dict())
    assert 'head.fc.weight' not in converted and 'patch_embed1.proj.weight' in converted
    assert all(torch.equal(v, classifier.backbone.state_dict()[k]) for k, v in converted.items())
