"""MMEngine's ``CheckpointHook`` with saves that a kill or a full disk cannot break."""
import logging
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from ..utils.checkpoint import describe_non_finite, non_finite_tensors
from ..utils.output_files import (OutputError, atomic_output, describe_os_error, inside,
                                  remove_stale_temporaries, write_text)

# The path a save slated for removal once the checkpoint that replaces it is complete; it
# travels in that checkpoint, so a run killed between the two finishes the removal when
# it resumes.
PENDING_REMOVAL_KEY = 'kdas_pending_checkpoint_removal'


class NonFiniteWeightsError(FloatingPointError):
    """The model to be saved holds NaN or infinite weights."""


def save_checkpoint_atomically(runner, out_dir: str, filename: str, *args, **kwargs) -> str:
    """``runner.save_checkpoint`` into a temporary file of ``out_dir``, fsynced and then
    renamed to ``filename``: the file of that name is complete or absent, never partial.

    Raises :class:`~kdas.utils.output_files.OutputError` naming the checkpoint when the
    write fails (the temporary file is removed and every earlier checkpoint is intact).
    """
    runner = getattr(runner, '_runner', runner)  # never a temporary inside a temporary
    final = osp.join(out_dir, filename)
    if not is_main_process():  # save_checkpoint is master_only
        return final
    with atomic_output(final, 'checkpoint', verb='save',
                       note='; the previous checkpoints are intact') as tmp:
        runner.save_checkpoint(osp.dirname(tmp), osp.basename(tmp), *args, **kwargs)
    return final


def flush_run_logs(logger) -> None:
    """Writes the run log's buffered lines to disk, so that a log cut short (a full disk)
    stops the run with the file's name instead of passing unnoticed: ``logging`` reports
    a failed write on stderr and carries on."""
    for handler in logger.handlers:
        stream = getattr(handler, 'stream', None)
        if not isinstance(handler, logging.FileHandler) or stream is None:
            continue
        try:
            stream.flush()
            os.fsync(stream.fileno())
        except OSError as err:
            raise OutputError(f'cannot write the run log {handler.baseFilename}: '
                              f'{describe_os_error(err)}') from err


class _AtomicRunner:
    """A runner whose ``save_checkpoint`` is :func:`save_checkpoint_atomically`; every
    other attribute is the runner's own. Lets MMEngine's best-checkpoint logic run as is."""

    def __init__(self, runner):
        self._runner = runner

    def __getattr__(self, name):
        return getattr(self._runner, name)

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        return save_checkpoint_atomically(self._runner, out_dir, filename, *args, **kwargs)


class _DeferredRemovals:
    """A file backend that records removals instead of doing them, until :meth:`apply`;
    they are also noted in the message hub, so that the checkpoint saved meanwhile carries
    them and a run killed before :meth:`apply` finishes them when it resumes."""

    def __init__(self, backend, message_hub):
        self._backend = backend
        self._message_hub = message_hub
        self.pending = []

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def remove(self, path):
        self.pending.append(('remove', path))
        add_pending_removal(self._message_hub, path)

    def rmtree(self, path):
        self.pending.append(('rmtree', path))

    def apply(self, keep=()):
        for method, path in self.pending:
            if path not in keep:
                getattr(self._backend, method)(path)
        self.pending = []


def add_pending_removal(message_hub, path) -> None:
    pending = list(message_hub.get_info(PENDING_REMOVAL_KEY) or [])
    message_hub.update_info(PENDING_REMOVAL_KEY, pending + [path])


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments, same files, ``max_keep_ckpts`` the number kept
    once a save is complete) whose saves cannot lose a run.

    MMEngine's hook removes the oldest checkpoint *before* it writes the next one, writes
    that one in place, and then rewrites ``last_checkpoint``; a kill (the OOM killer, a
    preemption, a Slurm time limit) or a full disk in between leaves no checkpoint, a
    partial one, or a ``last_checkpoint`` naming a deleted file. Here every save:

    1. refuses weights that are not finite (:class:`NonFiniteWeightsError`), so a
       diverged model never replaces a good checkpoint;
    2. writes the checkpoint to a temporary file in the same folder, fsyncs it and renames
       it into place (:func:`save_checkpoint_atomically`);
    3. replaces ``last_checkpoint`` the same way;
    4. only then removes the checkpoint it supersedes (best checkpoints likewise).

    ``out_dir`` must be a local folder. A kill at any point leaves the newest complete
    checkpoint loadable; ``tools/train.py --resume`` picks it (:mod:`kdas.engine.resume`).
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if '://' in str(self.out_dir):
            raise ValueError(f'AtomicCheckpointHook saves to a local folder; {self.out_dir} '
                             'is not one (use CheckpointHook for remote storage)')
        if not is_main_process():
            return
        remove_stale_temporaries(self.out_dir)
        remove_stale_temporaries(runner.work_dir)
        resumed = runner.message_hub.get_info('last_ckpt')
        resumed = osp.join(self.out_dir, osp.basename(resumed)) if resumed else None
        keep = {osp.realpath(p) for p in [resumed] + self._best_paths() if p}
        for pending in runner.message_hub.get_info(PENDING_REMOVAL_KEY) or []:
            if (osp.isfile(pending) and inside(pending, self.out_dir) and
                    osp.realpath(pending) not in keep):
                os.remove(pending)
                runner.logger.info(f'removed {pending}, superseded by the checkpoint this run '
                                   'resumed from (the run before was stopped before removing '
                                   'it)')
        runner.message_hub.update_info(PENDING_REMOVAL_KEY, [])
        # A run killed between writing a checkpoint and pointing last_checkpoint at it
        # resumes from that checkpoint (kdas.engine.resume): point at it now.
        if resumed:
            pointer = osp.join(runner.work_dir, 'last_checkpoint')
            current = open(pointer).read().strip() if osp.isfile(pointer) else None
            if osp.isfile(resumed) and current != resumed:
                write_text(pointer, resumed, 'the last_checkpoint pointer')

    def _best_paths(self):
        paths = list((getattr(self, 'best_ckpt_path_dict', None) or {}).values())
        return [p for p in paths + [getattr(self, 'best_ckpt_path', None)] if p]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        flush_run_logs(runner.logger)
        bad = non_finite_tensors(checkpoint.get('state_dict', {}))
        if bad:
            raise NonFiniteWeightsError(
                f'refusing to save a checkpoint at iteration {runner.iter}: the model\'s '
                f'{describe_non_finite(bad)}; training has diverged (lower the learning '
                'rate or check the data)')

    def _save_checkpoint_with_step(self, runner, step, meta):
        superseded = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                superseded = self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(self.keep_ckpt_ids.popleft()))
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        if superseded == self.last_ckpt:  # a fixed file name: the save replaces it
            superseded = None
        if superseded is not None:
            add_pending_removal(runner.message_hub, superseded)
        save_checkpoint_atomically(
            runner, self.out_dir, filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        runner.message_hub.update_info(PENDING_REMOVAL_KEY, [])
        if not is_main_process():
            return
        write_text(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt,
                   'the last_checkpoint pointer')
        if superseded is not None and osp.isfile(superseded):
            os.remove(superseded)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        removals = _DeferredRemovals(self.file_backend, runner.message_hub)
        backend, self.file_backend = self.file_backend, removals
        try:
            super()._save_best_checkpoint(_AtomicRunner(runner), metrics)
        finally:
            self.file_backend = backend
        runner.message_hub.update_info(PENDING_REMOVAL_KEY, [])
        if is_main_process():
            removals.apply(keep=set(self._best_paths()) | {self.last_ckpt})
