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


def resume_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be resumed from, or None when it can: it must load, hold the
    model and the training state (``meta``, ``message_hub``, ``optimizer``) and have
    finite weights."""
    try:
        checkpoint = safe_torch_load(path)
    except (FileNotFoundError, RuntimeError) as err:
        return str(err)
    if not isinstance(checkpoint, dict):
        return 'not a training checkpoint'
    missing = [k for k in ('state_dict', 'meta', 'message_hub', 'optimizer')
               if k not in checkpoint]
    if missing:
        return (f'holds no {", ".join(missing)}: weights only (e.g. converted or published), '
                'not a training checkpoint')
    bad = non_finite_tensors(checkpoint['state_dict'])
    if bad:
        return f'its {describe_non_finite(bad)}'
    return None


def checkpoint_folder(cfg) -> str:
    """Where the run's checkpoint hook writes (MMEngine: ``out_dir/<work dir name>``
    when the hook has an ``out_dir``, else the work dir)."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    if hook.get('out_dir'):
        return osp.join(hook['out_dir'], osp.basename(osp.normpath(cfg.work_dir)))
    return cfg.work_dir


def resume_candidates(folder: str) -> List[str]:
    """``epoch_N.pth`` / ``iter_N.pth`` in ``folder``, plus the file ``last_checkpoint``
    names, newest first (by N, then by modification time)."""
    found = {}
    if osp.isdir(folder):
        for name in os.listdir(folder):
            match = RESUMABLE_NAME.match(name)
            if match:
                path = osp.join(folder, name)
                found[osp.realpath(path)] = (path, int(match.group(2)))
    pointer = osp.join(folder, 'last_checkpoint')
    if osp.isfile(pointer):
        try:
            named = open(pointer).read().strip()
        except OSError:
            named = ''
        if named and osp.realpath(named) not in found:
            match = RESUMABLE_NAME.match(osp.basename(named))
            found[osp.realpath(named)] = (named, int(match.group(2)) if match else -1)

    def newest_first(item):
        path, step = item
        try:
            mtime = osp.getmtime(path)
        except OSError:
            mtime = 0.
        return (-step, -mtime)

    return [path for path, _ in sorted(found.values(), key=newest_first)]


def find_resume_checkpoint(folder: str) -> Tuple[Optional[str], List[Skipped]]:
    """The newest checkpoint of ``folder`` that can be resumed from (None if none), and
    every newer candidate skipped, with the reason."""
    skipped = []
    for path in resume_candidates(folder):
        problem = resume_problem(path)
        if problem is None:
            return path, skipped
        skipped.append(Skipped(path, problem))
    return None, skipped


def configure_resume(cfg, requested: str) -> List[str]:
    """Sets ``cfg.resume`` / ``cfg.load_from`` for ``--resume`` (``'auto'`` or a path)
    and returns what to tell the user.

    ``'auto'``: the newest checkpoint of the run's folder that loads; the newer ones it
    skipped are named with the reason; with none, the run starts from scratch and says so.
    A path: it must be resumable, else ``ValueError`` naming it and the reason.
    """
    if requested != 'auto':
        problem = resume_problem(requested)
        if problem:
            raise ValueError(f'cannot resume from {requested}: {problem}')
        cfg.resume, cfg.load_from = True, requested
        return [f'resuming from {requested}']
    folder = checkpoint_folder(cfg)
    chosen, skipped = find_resume_checkpoint(folder)
    messages = [f'skipped {s.path}: {s.reason}' for s in skipped]
    if chosen is None:
        cfg.resume, cfg.load_from = False, None
        messages.append(f'--resume: no checkpoint to resume from in {folder}'
                        f'{" that loads" if skipped else ""}; training from scratch')
    else:
        cfg.resume, cfg.load_from = True, chosen
        messages.append(f'--resume: resuming from {chosen}, the newest checkpoint in '
                        f'{folder} that loads')
    return messages
