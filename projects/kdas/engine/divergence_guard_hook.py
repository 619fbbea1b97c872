"""Stops training at the first non-finite loss instead of training on to a NaN model."""
import math

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


class TrainingDivergedError(FloatingPointError):
    """A loss term became NaN or infinite; the message names the iteration and term."""


def non_finite_terms(log_vars: dict) -> list:
    """``name=value`` of every loss entry (the total ``loss`` and each term) that is not a
    finite number."""
    bad = []
    for name, value in (log_vars or {}).items():
        if 'loss' not in name:
            continue
        value = float(value.item() if hasattr(value, 'item') else value)
        if not math.isfinite(value):
            bad.append(f'{name}={value}')
    return bad


def loss_scale(runner):
    """The dynamic loss scale of an fp16 run (``AmpOptimWrapper``), else None."""
    scaler = getattr(getattr(runner, 'optim_wrapper', None), 'loss_scaler', None)
    return float(scaler.get_scale()) if scaler is not None else None


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    """Raises :class:`TrainingDivergedError` after the first iteration whose total loss
    or any loss term is NaN or infinite, naming the iteration, the terms and the last
    checkpoint saved before it, so the run exits non-zero.

    It runs before the checkpoint hook, so the diverged weights are never saved (and
    :class:`~kdas.engine.AtomicCheckpointHook` refuses non-finite weights in any case).
    fp16 dynamic loss scaling (``AmpOptimWrapper``) skips a step whose float16 forward or
    gradients overflow and halves its scale: such a step changed no weight, so up to
    ``max_skipped_steps`` of them in a row pass (the scale having been lowered each time).

    Args:
        max_skipped_steps (int): Consecutive fp16 steps with a non-finite loss that the
            loss scaler skipped, tolerated before the run counts as diverged.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, max_skipped_steps: int = 16):
        self.max_skipped_steps = max_skipped_steps
        self._scale = None
        self._skipped = 0

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._scale = loss_scale(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        bad = non_finite_terms(outputs)
        if not bad:
            self._skipped = 0
            return
        scale = loss_scale(runner)
        if (scale is not None and self._scale is not None and scale < self._scale and
                self._skipped < self.max_skipped_steps):
            self._skipped += 1
            runner.logger.warning(
                f'iteration {runner.iter + 1}: {", ".join(bad)} in fp16; the loss scaler '
                f'skipped the step and lowered its scale to {scale:g}')
            return
        last = runner.message_hub.get_info('last_ckpt')
        where = (f'the last checkpoint saved before it is {last}' if last else
                 'no checkpoint was saved before it')
        then = ('then resume from that checkpoint with a lower learning rate or train again'
                if last else 'then train again')
        raise TrainingDivergedError(
            f'training diverged at iteration {runner.iter + 1} (epoch {runner.epoch + 1}): '
            f'{", ".join(bad)}; {where}. Stopped without saving the diverged weights; '
            f'lower the learning rate (optim_wrapper.optimizer.lr) or check the data, {then}.')
