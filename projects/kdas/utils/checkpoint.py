"""Loading weights into a model strictly, with errors that name the file and the keys."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from torch import Tensor

from .safe_checkpoint import safe_torch_load


def extract_state_dict(checkpoint) -> Dict[str, Tensor]:
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                return checkpoint[key]
    return checkpoint


def non_finite_tensors(state_dict: Dict[str, Tensor]) -> List[str]:
    """Names of the floating-point tensors of ``state_dict`` holding NaN or infinity."""
    return [k for k, v in state_dict.items()
            if isinstance(v, Tensor) and v.is_floating_point() and
            not bool(torch.isfinite(v).all())]


def describe_non_finite(names: List[str], limit: int = 5) -> str:
    more = f' ... and {len(names) - limit} more' if len(names) > limit else ''
    return f'{len(names)} tensors hold NaN or infinite values: {", ".join(names[:limit])}{more}'


def describe_mismatch(expected: Dict[str, tuple], found: Dict[str, tuple], limit=20) -> str:
    """A readable list of missing, unexpected and mis-shaped keys (empty if none)."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    misshaped = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
    parts = []
    for label, keys in (('missing', missing), ('unexpected', unexpected)):
        if keys:
            more = f' ... and {len(keys) - limit} more' if len(keys) > limit else ''
            parts.append(f'{len(keys)} {label} keys: {", ".join(keys[:limit])}{more}')
    if misshaped:
        shown = ', '.join(f'{k} (expected {expected[k]}, found {found[k]})'
                          for k in misshaped[:limit])
        parts.append(f'{len(misshaped)} keys with the wrong shape: {shown}')
    return '; '.join(parts)


def load_weights(model: nn.Module, filename: str, what: str = 'model',
                 prefix: Optional[str] = None, hint: Optional[str] = None) -> dict:
    """Loads ``filename`` into ``model``, requiring every key and shape to match.

    MMEngine's ``load_checkpoint`` (behind ``load_from``, ``init_model`` and the
    ``Pretrained`` initialiser) loads with ``strict=False``: a checkpoint of another
    architecture would leave the model at its random initialisation after a warning. Every
    path here that loads weights for use goes through this function instead.

    Args:
        prefix: Use only the keys under this prefix (e.g. ``'backbone.'``), stripped.
        hint: What to do about a missing or mismatched file, appended to the error.

    Returns:
        The whole checkpoint object (its ``meta`` included).

    Raises:
        FileNotFoundError: the file does not exist.
        RuntimeError: unreadable, no state dict, missing, unexpected or mis-shaped keys,
            or tensors holding NaN or infinity.
    """
    hint = f' {hint}' if hint else ''
    try:
        checkpoint = safe_torch_load(filename)
    except FileNotFoundError:
        raise FileNotFoundError(f'{what} checkpoint {filename} does not exist.{hint}') from None
    state_dict = extract_state_dict(checkpoint)
    if not isinstance(state_dict, dict):
        raise RuntimeError(f'{what} checkpoint {filename} holds no state dict.{hint}')
    if prefix:
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not state_dict:
            raise RuntimeError(f'{what} checkpoint {filename} has no keys under {prefix!r}.'
                               f'{hint}')
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state_dict.items() if hasattr(v, 'shape')}
    problem = describe_mismatch(expected, found)
    if problem:
        raise RuntimeError(f'{what} checkpoint {filename} does not match the {what} '
                           f'architecture ({type(model).__name__}): {problem}.{hint}')
    bad = non_finite_tensors(state_dict)
    if bad:
        raise RuntimeError(f'{what} checkpoint {filename} is unusable: '
                           f'{describe_non_finite(bad)} (saved from a diverged run?)')
    model.load_state_dict(state_dict, strict=True)
    return checkpoint
