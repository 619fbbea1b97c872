import os.path as osp

import torch
from mmengine.config import Config

from kdas.models.official_format import convert_pvt_v2
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


def test_imagenet_checkpoint_loads_through_pretrained_init(tmp_path):
    """An ImageNet PVTv2 checkpoint (official key names plus a classifier head) converted
    by pvt2mmseg.py initialises the student's backbone via init_cfg=Pretrained."""
    from mmseg.registry import MODELS as SEG_MODELS

    from kdas.models.backbones import PVTv2
    from tests.conftest import run_tool
    imagenet = PVTv2('b0').state_dict()
    imagenet = {k: torch.randn_like(v) if v.is_floating_point() else v
                for k, v in imagenet.items()}
    imagenet['head.weight'] = torch.zeros(1000, 256)
    imagenet['head.bias'] = torch.zeros(1000)
    torch.save(imagenet, tmp_path / 'pvt_v2_b0.pth')
    run_tool('tools/model_converters/pvt2mmseg.py', str(tmp_path / 'pvt_v2_b0.pth'),
             str(tmp_path / 'b0_mmseg.pth'))
    cfg = Config.fromfile(osp.join(REPO, 'configs/polyp_pvt/polyppvt_pvtv2b0_polyp.py'))
    cfg.model.backbone.init_cfg = dict(type='Pretrained',
                                       checkpoint=str(tmp_path / 'b0_mmseg.pth'))
    model = SEG_MODELS.build(cfg.model)
    model.init_weights()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, imagenet[key]), key
    # A B2 checkpoint does not convert as B0.
    result = run_tool('tools/model_converters/pvt2mmseg.py', str(tmp_path / 'pvt_v2_b0.pth'),
                      str(tmp_path / 'x.pth'), '--arch', 'b2', check=False)
    assert result.returncode == 1 and 'block1.2' in result.stderr
