"""Loading weights into a model strictly, with errors that name the file and the keys."""
from typing import Dict

import torch.nn as nn
from torch import Tensor

from .safe_checkpoint import safe_torch_load


def extract_state_dict(checkpoint) -> Dict[str, Tensor]:
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                return checkpoint[key]
    return checkpoint


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


def load_weights(model: nn.Module, filename: str, what: str = 'model') -> None:
    """Loads ``filename`` into ``model``, requiring every key and shape to match."""
    state_dict = extract_state_dict(safe_torch_load(filename))
    if not isinstance(state_dict, dict):
        raise RuntimeError(f'{what} checkpoint {filename} holds no state dict')
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state_dict.items() if hasattr(v, 'shape')}
    problem = describe_mismatch(expected, found)
    if problem:
        raise RuntimeError(
            f'{what} checkpoint {filename} does not match the {what} architecture '
            f'({type(model).__name__}): {problem}. Was it converted with '
            'tools/model_converters/polyppvt2mmseg.py and built for the same variant?')
    model.load_state_dict(state_dict, strict=True)
