"""A segmentor that trains a student under a frozen teacher (the algorithm, in MMRazor's
terms); what is recorded and compared lives in the distiller."""
from typing import Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.logging import MessageHub
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from ...utils.checkpoint import load_weights
from .multi_scale_train import MultiScaleTrainMixin

STUDENT_PREFIX = 'student.'
TEACHER_HINT = ('Train the teacher first (python tools/train.py '
                'configs/polyp_pvt/polyppvt_pvtv2b2_polyp.py) or convert a public Polyp-PVT '
                'checkpoint (tools/model_converters/polyppvt2mmseg.py), then pass it with '
                '--cfg-options model.teacher_checkpoint=PATH')


@MODELS.register_module()
class DistillationSegmentor(MultiScaleTrainMixin, BaseSegmentor):
    """Student + frozen teacher + distiller.

    The loss is ``(1 - alpha) * L_seg + alpha * sum(distillation terms)``, where ``L_seg`` is
    the student's own decode-head loss and each distillation term carries its own
    ``loss_weight``.

    The teacher is loaded from ``teacher_checkpoint`` when the model is built (so a missing
    or mismatched file stops the run before the first iteration), runs in eval mode under
    ``torch.no_grad()``, is not a registered sub-module (so it is absent from the optimiser,
    from DDP and from saved checkpoints) and follows ``.to()``/``.cuda()`` with the model.
    Saved state dicts hold the student's keys without prefix, so a KDAS checkpoint loads
    directly into the student's own config.

    Args:
        student (dict): Student segmentor config (e.g. ``PolypEncoderDecoder``).
        teacher (dict): Teacher segmentor config.
        teacher_checkpoint (str, optional): Teacher weights in this project's format (a
            training checkpoint or the output of ``polyppvt2mmseg.py``). None is for
            testing, inference and export, where the teacher is not used; training without
            it stops (``init_weights``, and the first ``loss`` otherwise) instead of
            distilling from a random teacher.
        distiller (dict): ``RecordingDistiller`` config.
        alpha (float): Weight of the distillation terms (0.3 in the paper).
        train_rates, train_base_size, train_label_resize: the multi-scale schedule, see
            :class:`MultiScaleTrainMixin`.
        alpha_warmup_iters (int): Raise alpha linearly from 0 over the first iterations
            (MMEngine's iteration count), so the student first learns the labels.
        balance_terms (bool): Scale each distillation term to the size of the segmentation
            loss: multiply it by EMA(L_seg) / EMA(term), running means of the detached values
            (momentum ``balance_momentum``); alpha then sets the real share of the
            distillation. The means are averaged over the processes of a distributed run
            (one scale for all) and travel in checkpoints (``train_state``,
            :class:`TrainStateHook`), so a resumed run scales as the uninterrupted one.
    """

    def __init__(self, student: dict, teacher: dict, distiller: dict,
                 teacher_checkpoint: Optional[str] = None, alpha: float = 0.3,
                 train_rates=(1.0, ), train_base_size: int = 352,
                 train_label_resize: str = 'nearest', alpha_warmup_iters: int = 0,
                 balance_terms: bool = False, balance_momentum: float = 0.99,
                 data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0 <= alpha <= 1:
            raise ValueError(f'alpha must lie in [0, 1], got {alpha}')
        self.student = MODELS.build(student)
        teacher_model = MODELS.build(teacher)
        if teacher_checkpoint is not None:
            load_weights(teacher_model, teacher_checkpoint, what='teacher', hint=TEACHER_HINT)
        teacher_model.requires_grad_(False)
        teacher_model.eval()
        # A list hides the teacher from Module's registry (see the class docstring).
        self._teacher_holder = [teacher_model]
        self.teacher_checkpoint = teacher_checkpoint
        self.distiller = MODELS.build(distiller)
        self.alpha = alpha
        self.train_rates = tuple(train_rates)
        self.train_base_size = train_base_size
        self.train_label_resize = train_label_resize
        self.alpha_warmup_iters = alpha_warmup_iters
        self.balance_terms = balance_terms
        self.balance_momentum = balance_momentum
        self._running = {}  # term name -> running mean of its detached value
        self._register_state_dict_hook(_strip_student_prefix)
        self._register_load_state_dict_pre_hook(_add_student_prefix)

    @property
    def teacher(self):
        return self._teacher_holder[0]

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        self.teacher._apply(fn, *args, **kwargs)
        return self

    def _require_teacher(self):
        if self.teacher_checkpoint is None:
            raise RuntimeError('DistillationSegmentor: model.teacher_checkpoint is not set, so '
                               'the teacher has random weights and there is nothing to '
                               f'distil. {TEACHER_HINT}')

    def init_weights(self):
        # MMEngine's runner initialises weights only when it trains: stop before the first
        # iteration rather than distil from a random teacher.
        self._require_teacher()
        # The teacher keeps its checkpoint: only the student (and distiller) initialise.
        self.student.init_weights()
        self.distiller.init_weights()

    # BaseSegmentor's abstract interface, delegated to the student.
    def extract_feat(self, inputs: Tensor):
        return self.student.extract_feat(inputs)

    def encode_decode(self, inputs: Tensor, batch_data_samples: SampleList):
        return self.student.encode_decode(inputs, batch_data_samples)

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        return self.student.predict(inputs, data_samples)

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None):
        return self.student._forward(inputs, data_samples)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        self._require_teacher()
        distiller = self.distiller
        self.teacher.eval()  # in case a hook or user switched it
        with torch.no_grad(), distiller.teacher_recorder.recording(self.teacher):
            self.teacher._forward(inputs)
        with distiller.student_recorder.recording(self.student):
            student_losses = self.student.loss(inputs, data_samples)
        distill_losses = distiller.compute_losses(inputs.shape[-2:])

        alpha = self.current_alpha()
        if self.balance_terms:
            seg = self._running_mean('_seg', sum(v for k, v in student_losses.items()
                                                 if 'loss' in k))
            distill_losses = {name: value * (seg / max(self._running_mean(name, value), 1e-12))
                              for name, value in distill_losses.items()}
        losses = {}
        for name, value in student_losses.items():
            # Only loss terms are weighted; accuracies and the like pass through.
            losses[name] = (1 - alpha) * value if 'loss' in name else value
        for name, value in distill_losses.items():
            # MMEngine's parse_losses sums only keys containing 'loss'.
            key = f'distill.{name}' if 'loss' in name else f'distill.loss_{name}'
            losses[key] = alpha * value
        return losses

    def current_alpha(self) -> float:
        """alpha, or its linear warm-up from 0 over ``alpha_warmup_iters`` iterations."""
        if not self.alpha_warmup_iters:
            return self.alpha
        done = MessageHub.get_current_instance().get_info('iter', 0)
        return self.alpha * min(1., done / self.alpha_warmup_iters)

    def train_state(self) -> dict:
        """What training carries besides weights, buffers and optimiser: the running means
        of ``balance_terms`` (plain numbers, outside the student-only state dict)."""
        return {'balance_running_means': dict(self._running)}

    def load_train_state(self, state: dict) -> None:
        self._running = {str(k): float(v)
                         for k, v in state.get('balance_running_means', {}).items()}

    def _running_mean(self, key: str, value: Tensor) -> float:
        """The running mean of a detached loss value (a plain number: no gradient),
        of its mean over the processes in a distributed run."""
        value = value.detach()
        if get_world_size() > 1:
            value = value.clone()  # all_reduce works in place
            all_reduce(value, op='mean')
        value = float(value)
        previous = self._running.get(key)
        m = self.balance_momentum
        self._running[key] = value if previous is None else m * previous + (1 - m) * value
        return self._running[key]


def _strip_student_prefix(module, state_dict, prefix, local_metadata):
    for key in list(state_dict):
        if key.startswith(prefix + STUDENT_PREFIX):
            state_dict[prefix + key[len(prefix + STUDENT_PREFIX):]] = state_dict.pop(key)
    return state_dict


def _add_student_prefix(state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
    own = (prefix + STUDENT_PREFIX, prefix + 'distiller.', prefix + 'data_preprocessor.')
    for key in list(state_dict):
        if key.startswith(prefix) and not key.startswith(own):
            state_dict[prefix + STUDENT_PREFIX + key[len(prefix):]] = state_dict.pop(key)
