"""What every training run gets, whatever its config: atomic checkpoints, the divergence
guard, and a schedule that trains something."""
from typing import List

SAFE_CHECKPOINT_HOOK = 'AtomicCheckpointHook'
GUARD_HOOK = 'DivergenceGuardHook'


def schedule_problems(cfg) -> List[str]:
    """What is wrong with ``cfg.train_cfg`` (a run that would train nothing, or never
    validate), as messages naming the setting."""
    train_cfg = cfg.get('train_cfg') or {}
    problems = []
    for key in ('max_epochs', 'max_iters', 'val_interval', 'val_begin'):
        if key not in train_cfg:
            continue
        value = train_cfg[key]
        low = 0 if key == 'val_begin' else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            problems.append(f'train_cfg.{key}={value!r}: must be an integer >= {low}')
    return problems


def install_safeguards(cfg) -> None:
    """Makes the run save checkpoints with ``AtomicCheckpointHook`` (a config's plain
    ``CheckpointHook`` keeps its arguments; one saving to remote storage is left as it is)
    and stop at a non-finite loss (``DivergenceGuardHook``)."""
    hooks = cfg.get('default_hooks') or {}
    checkpoint = hooks.get('checkpoint')
    local = '://' not in str(checkpoint.get('out_dir') or '') if checkpoint else False
    if local and checkpoint.get('type') in ('CheckpointHook', 'mmengine.CheckpointHook'):
        checkpoint['type'] = SAFE_CHECKPOINT_HOOK
    custom = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == GUARD_HOOK for h in custom):
        custom.append(dict(type=GUARD_HOOK))
    cfg.custom_hooks = custom
