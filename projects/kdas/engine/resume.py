"""Choosing the checkpoint a run resumes from: the newest one that loads.

MMEngine's auto-resume trusts ``last_checkpoint``: a name there whose file was deleted or
cut short stops ``--resume`` with a traceback although an intact earlier checkpoint is in
the folder, and with no checkpoint at all it trains from scratch without a word. Here
every candidate is loaded (with the safe loader) and checked before it is chosen.
"""
import os
import os.path as osp
import re
from typing import List, NamedTuple, Optional, Tuple

from ..utils.checkpoint import describe_non_finite, non_finite_tensors
from ..utils.safe_checkpoint import safe_torch_load

# What CheckpointHook's default filename_tmpl writes: epoch_N.pth (by epoch) or iter_N.pth.
RESUMABLE_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


class Skipped(NamedTuple):
    path: str
    reason: str


def resume_problem(path: str, training_state: bool = True) -> Optional[str]:
    """Why ``path`` cannot be resumed from, or None when it can: it must load, hold the
    model and (``training_state``) the training state MMEngine resumes from (``meta``,
    ``message_hub``), and have finite weights."""
    try:
        checkpoint = safe_torch_load(path)
    except (FileNotFoundError, RuntimeError) as err:
        return str(err)
    if not isinstance(checkpoint, dict):
        return 'not a training checkpoint'
    needed = ('state_dict', 'meta', 'message_hub') if training_state else ('state_dict', )
    missing = [k for k in needed if k not in checkpoint]
    if missing:
        return (f'holds no {", ".join(missing)}: weights only (e.g. converted or published), '
                'not a training checkpoint')
    bad = non_finite_tensors(checkpoint['state_dict'])
    if bad:
        return f'its {describe_non_finite(bad)}'
    return None


def checkpoint_folder(cfg) -> str:
    """Where the run's checkpoint hook writes: as MMEngine's ``CheckpointHook`` decides,
    ``out_dir/<last folder of the work dir>`` when the hook has an ``out_dir`` other than
    the work dir, else the work dir."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    out_dir = hook.get('out_dir')
    if out_dir and out_dir != cfg.work_dir:
        return osp.join(out_dir, osp.basename(cfg.work_dir.rstrip(osp.sep)))
    return cfg.work_dir


def _mtime(path: str) -> float:
    try:
        return osp.getmtime(path)
    except OSError:
        return 0.


def resume_candidates(folder: str, pointer: Optional[str] = None) -> List[str]:
    """The checkpoints a run could resume from, in the order to try them.

    ``pointer`` (the run's ``last_checkpoint``) names the newest checkpoint the run saved
    completely; a checkpoint of ``folder`` (``epoch_N.pth`` / ``iter_N.pth``) written after
    the pointer comes before it (a run killed between the two writes), every other one
    after it; each group newest first. The pointer, not the step in a name, decides, so
    that files an earlier run left in the work dir are not taken for this run's.
    """
    found = {}
    if osp.isdir(folder):
        for name in os.listdir(folder):
            match = RESUMABLE_NAME.match(name)
            if match:
                path = osp.join(folder, name)
                found[osp.realpath(path)] = (path, int(match.group(2)))
    named, pointer_time = None, None
    if pointer and osp.isfile(pointer):
        try:
            named = open(pointer).read().strip() or None
        except OSError:
            named = None
        pointer_time = _mtime(pointer)
    if named is not None:
        found.pop(osp.realpath(named), None)

    def newest_first(item):
        path, step = item
        return (-_mtime(path), -step)

    ordered = [path for path, _ in sorted(found.values(), key=newest_first)]
    if named is None:
        return ordered
    after = [p for p in ordered if _mtime(p) > pointer_time]
    return after + [named] + [p for p in ordered if p not in after]


def find_resume_checkpoint(folder: str, pointer: Optional[str] = None
                           ) -> Tuple[Optional[str], List[Skipped]]:
    """The first checkpoint of :func:`resume_candidates` that can be resumed from (None
    if none), and every candidate before it, skipped, with the reason."""
    skipped = []
    for path in resume_candidates(folder, pointer):
        problem = resume_problem(path)
        if problem is None:
            return path, skipped
        skipped.append(Skipped(path, problem))
    return None, skipped


def configure_resume(cfg, requested: str) -> List[str]:
    """Sets ``cfg.resume`` / ``cfg.load_from`` for ``--resume`` (``'auto'`` or a path)
    and returns what to tell the user.

    ``'auto'``: the newest checkpoint of the run that loads (:func:`resume_candidates`);
    the newer ones it skipped are named with the reason; with none, the run starts from
    scratch and says so.
    A path: it must be resumable, else ``ValueError`` naming it and the reason.
    """
    if requested != 'auto':
        problem = resume_problem(requested)
        if problem:
            raise ValueError(f'cannot resume from {requested}: {problem}')
        cfg.resume, cfg.load_from = True, requested
        return [f'resuming from {requested}']
    folder = checkpoint_folder(cfg)
    chosen, skipped = find_resume_checkpoint(folder, osp.join(cfg.work_dir, 'last_checkpoint'))
    messages = [f'skipped {s.path}: {s.reason}' for s in skipped]
    if chosen is None:
        cfg.resume, cfg.load_from = False, None
        messages.append(f'--resume: no checkpoint to resume from in {folder}'
                        f'{" that loads" if skipped else ""}; training from scratch')
    else:
        cfg.resume, cfg.load_from = True, chosen
        messages.append(f'--resume: resuming from {chosen}, the newest checkpoint of the '
                        f'run in {folder} that loads')
    return messages
