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


@HOOKS.register_module()
class DivergenceGuardHook(Hook):
    """Raises :class:`TrainingDivergedError` after the first iteration whose total loss
    or any loss term is NaN or infinite, naming the iteration, the terms and the last
    checkpoint saved before it, so the run exits non-zero.

    It runs before the checkpoint hook, so the diverged weights are never saved (and
    :class:`~kdas.engine.AtomicCheckpointHook` refuses non-finite weights in any case).
    Only the loss is checked: fp16 dynamic loss scaling skips steps whose *gradients*
    overflow and lowers the scale, and those steps have a finite loss.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        bad = non_finite_terms(outputs)
        if not bad:
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
