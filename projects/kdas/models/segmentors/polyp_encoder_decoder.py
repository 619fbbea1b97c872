from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS

from ...utils.checkpoint import load_weights
from .multi_scale_train import MultiScaleTrainMixin


@MODELS.register_module()
class PolypEncoderDecoder(MultiScaleTrainMixin, EncoderDecoder):
    """MMSegmentation's ``EncoderDecoder`` with the optional multi-scale schedule.

    Args:
        train_rates (Sequence[float]): Scales of each training batch, e.g.
            ``(0.75, 1, 1.25)``; ``(1,)`` trains at the loaded size only.
        train_base_size (int): Size the rates multiply (352 in the paper).
        train_label_resize (str): ``'nearest'`` (hard masks) or ``'bilinear'`` (the public
            code's soft masks) when a batch is rescaled.
        **kwargs: ``EncoderDecoder`` arguments.

    A backbone's ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` loads
    strictly, whatever the backbone (MMSegmentation's ResNet and MobileNetV2 included):
    every key and shape must match, or the error names what does not.
    """

    def __init__(self, *args, train_rates=(1.0, ), train_base_size=352,
                 train_label_resize='nearest', **kwargs):
        super().__init__(*args, **kwargs)
        self.train_rates = tuple(train_rates)
        self.train_base_size = train_base_size
        self.train_label_resize = train_label_resize

    def init_weights(self):
        # MMEngine's Pretrained initialiser loads with strict=False: ImageNet weights of
        # another network would leave most of the backbone at random after a warning.
        pretrained = self.backbone.init_cfg
        strict = (isinstance(pretrained, dict) and pretrained.get('type') == 'Pretrained'
                  and not getattr(self.backbone, 'loads_pretrained_strictly', False))
        if strict:
            self.backbone.init_cfg = None
        try:
            super().init_weights()
        finally:
            if strict:
                self.backbone.init_cfg = pretrained
        if strict:
            load_weights(self.backbone, pretrained['checkpoint'],
                         what=f'{type(self.backbone).__name__} backbone',
                         prefix=pretrained.get('prefix'))
