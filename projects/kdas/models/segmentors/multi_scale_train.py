"""The Polyp-PVT / KDAS multi-scale schedule: every batch is used at several scales,
with a backward pass and an optimiser step for each."""
from typing import Callable, Dict, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper
from mmengine.registry import MODEL_WRAPPERS
from mmengine.structures import PixelData


def scaled_size(base: int, rate: float, divisor: int = 32) -> int:
    """``round(base * rate / divisor) * divisor``, as the reference training script does."""
    return int(round(base * rate / divisor) * divisor)


LABEL_RESIZE_MODES = ('nearest', 'bilinear')


def rescale_batch(inputs, data_samples, size, label_mode='nearest'):
    """Resize a preprocessed batch: images bilinearly (align_corners=True), labels by
    nearest neighbour (hard 0/1 labels) or, with ``label_mode='bilinear'``, bilinearly as
    the public Polyp-PVT / KDAS training script does (soft labels in [0, 1] at edges)."""
    if label_mode not in LABEL_RESIZE_MODES:
        raise ValueError(f'label_mode must be one of {LABEL_RESIZE_MODES}, got {label_mode!r}')
    if tuple(inputs.shape[-2:]) == tuple(size):
        return inputs, data_samples
    inputs = F.interpolate(inputs, size=size, mode='bilinear', align_corners=True)
    resized = []
    for sample in data_samples:
        sample = sample.clone()
        label = sample.gt_sem_seg.data[None].float()
        if label_mode == 'nearest':
            label = F.interpolate(label, size=size, mode='nearest')[0].to(torch.int64)
        else:
            label = F.interpolate(label, size=size, mode='bilinear', align_corners=True)[0]
        sample.gt_sem_seg = PixelData(data=label)
        sample.set_metainfo(dict(img_shape=tuple(size), pad_shape=tuple(size)))
        resized.append(sample)
    return inputs, resized


class MultiScaleTrainMixin:
    """Adds ``train_rates`` to a segmentor: each batch is trained once per rate, resized to
    ``scaled_size(train_base_size, rate)``. ``train_rates=(1,)`` is ordinary training.
    ``train_label_resize`` says how the masks follow (see :func:`rescale_batch`).
    The logged losses are those of the last scale. Under DDP, the runner's wrapper must be
    :class:`MultiScaleDistributedDataParallel` (set in ``configs/_base_/default_runtime.py``)
    so that each scale's forward synchronises gradients."""

    train_rates: Sequence[float] = (1.0, )
    train_base_size: int = 352
    train_label_resize: str = 'nearest'

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        return self.multi_scale_train_step(data, optim_wrapper, self, self._run_forward)

    def multi_scale_train_step(self, data, optim_wrapper: OptimWrapper, wrapper,
                               run_forward: Callable) -> Dict[str, torch.Tensor]:
        data = self.data_preprocessor(data, True)
        log_vars = {}
        for rate in self.train_rates:
            if tuple(self.train_rates) == (1.0, ):
                inputs, samples = data['inputs'], data['data_samples']
            else:
                size = scaled_size(self.train_base_size, rate)
                inputs, samples = rescale_batch(data['inputs'], data['data_samples'],
                                                (size, size), self.train_label_resize)
            with optim_wrapper.optim_context(wrapper):
                losses = run_forward(dict(inputs=inputs, data_samples=samples), mode='loss')
            parsed, log_vars = self.parse_losses(losses)
            optim_wrapper.update_params(parsed)
        return log_vars


@MODEL_WRAPPERS.register_module()
class MultiScaleDistributedDataParallel(MMDistributedDataParallel):
    """MMEngine's DDP wrapper, whose ``train_step`` runs the module's multi-scale schedule
    with every forward going through DDP (MMEngine's own wrapper bypasses the module's
    ``train_step``)."""

    def train_step(self, data, optim_wrapper):
        if not isinstance(self.module, MultiScaleTrainMixin):
            return super().train_step(data, optim_wrapper)
        return self.module.multi_scale_train_step(data, optim_wrapper, self, self._run_forward)
