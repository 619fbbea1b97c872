"""What a distillation run records from the student and the teacher, and which losses
compare it: KDAS's terms, pixel-wise KD and channel-wise distillation alike.

Following MMRazor's split, the distiller knows nothing about who trains whom: the
algorithm (:class:`DistillationSegmentor`) runs both networks; the distiller records
named module outputs through forward hooks while they run and computes the distillation
losses from those records.
"""
from contextlib import contextmanager
from typing import Dict, List, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor


class ModuleOutputRecorder:
    """Keeps the latest output of named sub-modules of one network."""

    def __init__(self, sources: Dict[str, str]):
        self.sources = dict(sources)
        self.outputs: Dict[str, Tensor] = {}

    @contextmanager
    def recording(self, model: nn.Module):
        modules = dict(model.named_modules())
        missing = sorted(set(self.sources.values()) - set(modules))
        if missing:
            raise KeyError(f'cannot record {missing}: no such module in '
                           f'{type(model).__name__}')
        self.outputs = {}
        handles = [
            modules[path].register_forward_hook(self._hook(name))
            for name, path in self.sources.items()
        ]
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def _hook(self, name):

        def record(module, args, output):
            self.outputs[name] = output

        return record


@MODELS.register_module()
class RecordingDistiller(BaseModule):
    """Records maps of both networks and computes the distillation losses that compare
    them (the KDAS terms, pixel-wise KD, channel-wise distillation).

    Args:
        student_recorders (dict[str, str]): record name -> module path in the student,
            e.g. ``dict(p1='decode_head.out_cfm', p2='decode_head.out_sam')``.
        teacher_recorders (dict[str, str]): the same for the teacher.
        distill_losses (dict[str, dict]): loss name -> loss config (``AttentionSupervisionLoss``,
            ``SGMLoss``...). An empty dict trains the student alone.
        loss_inputs (dict[str, list[str]]): loss name -> the record names it compares
            (the same names are looked up in both networks' records).
        resize_to_input (bool | list[str]): Upsample recorded maps to the input size first
            (bilinear, as Polyp-PVT upsamples its stride-8 logits), so the losses see the
            full-resolution maps of the paper: all of them (True), none (False), or the
            named records only (e.g. ``['p1', 'p2']``, leaving decoder features for
            channel-wise distillation at their own stride-8 size).
    """

    def __init__(self, student_recorders: Dict[str, str], teacher_recorders: Dict[str, str],
                 distill_losses: Dict[str, dict], loss_inputs: Dict[str, Sequence[str]],
                 resize_to_input: Union[bool, Sequence[str]] = True, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if set(distill_losses) != set(loss_inputs):
            raise ValueError(f'distill_losses {sorted(distill_losses)} and loss_inputs '
                             f'{sorted(loss_inputs)} must name the same losses')
        for loss_name, names in loss_inputs.items():
            unknown = sorted(set(names) - set(student_recorders) |
                             set(names) - set(teacher_recorders))
            if unknown:
                raise KeyError(f'{loss_name} compares {unknown}, which are not recorded in '
                               'both networks')
        self.student_recorder = ModuleOutputRecorder(student_recorders)
        self.teacher_recorder = ModuleOutputRecorder(teacher_recorders)
        self.distill_losses = nn.ModuleDict(
            {name: MODELS.build(cfg) for name, cfg in distill_losses.items()})
        self.loss_inputs = {name: list(names) for name, names in loss_inputs.items()}
        self.resize_to_input = (set(student_recorders) if resize_to_input is True else
                                set(resize_to_input or ()))

    def _maps(self, records: Dict[str, Tensor], names: List[str], size) -> List[Tensor]:
        maps = []
        for name in names:
            m = records[name]
            if name in self.resize_to_input and m.shape[-2:] != size:
                m = F.interpolate(m, size=size, mode='bilinear', align_corners=False)
            maps.append(m)
        return maps

    def compute_losses(self, input_size) -> Dict[str, Tensor]:
        losses = {}
        for name, loss in self.distill_losses.items():
            names = self.loss_inputs[name]
            student = self._maps(self.student_recorder.outputs, names, input_size)
            teacher = self._maps(self.teacher_recorder.outputs, names, input_size)
            # In float32 even under autocast: L_AT's P P^T over raw logits overflows float16
            # and loses the small probabilities of the softmaxes in bfloat16.
            with torch.autocast(student[0].device.type, enabled=False):
                losses[name] = loss([m.float() for m in student],
                                    [m.float() for m in teacher])
        return losses


# The registry name of configs written before the distiller was named for what it is.
KDASDistiller = MODELS.register_module(name='KDASDistiller', module=RecordingDistiller)
