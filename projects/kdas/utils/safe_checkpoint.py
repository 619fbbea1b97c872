"""Loading MMEngine checkpoints with ``torch.load(weights_only=True)``.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch 2.6 that means
``weights_only=True`` and resuming fails on the few non-tensor objects a training
checkpoint holds. Turning full unpickling back on would let a downloaded checkpoint run
code, so instead the local loader is replaced by one that unpickles with
``weights_only=True`` plus an allow-list of exactly those objects, only for the duration
of the load (nothing is added to torch's global allow-list).

``builtins.getattr`` needs care: a message hub pickles ``HistoryBuffer``'s statistics
methods as ``getattr(HistoryBuffer, 'min')``, but an unrestricted ``getattr`` lets a pickle
walk from any allowed object to ``__globals__`` and ``eval``. It is therefore replaced by
:func:`restricted_getattr`, which only returns allow-listed objects and the statistics
methods ``HistoryBuffer`` registers.
"""
import os
import pickle
import zipfile

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


def _numpy_globals():
    multiarray = np.core.multiarray
    objs = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    # Concrete dtype classes (np.dtypes.Float64DType ...) appear in pickles of dtypes.
    objs += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return objs


ALLOWED_OBJECTS = tuple(_numpy_globals()) + (HistoryBuffer, )


def restricted_getattr(obj, name, *default):
    """``getattr`` limited to allow-listed objects and HistoryBuffer's statistics."""
    statistics = {'min', 'max', 'mean', 'current'} | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in statistics:
        return getattr(obj, name)
    value = getattr(obj, name, *default)
    if not any(value is allowed for allowed in ALLOWED_OBJECTS):
        raise pickle.UnpicklingError(
            f'checkpoint asks for attribute {name!r} of {obj!r}, which is not on the '
            'allow-list of checkpoint contents')
    return value


SAFE_GLOBALS = list(ALLOWED_OBJECTS) + [(restricted_getattr, 'builtins.getattr')]


def safe_torch_load(filename, map_location='cpu'):
    """``torch.load`` with ``weights_only=True`` and the MMEngine allow-list.

    Raises:
        FileNotFoundError: the file does not exist.
        RuntimeError: the file is unreadable or holds objects outside the allow-list
            (the message names the file and the object); nothing in it was executed.
    """
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not zipfile.is_zipfile(filename):  # what torch.save has written since torch 1.6
            raise RuntimeError(f'checkpoint {filename} is unreadable: not a complete PyTorch '
                               'checkpoint (truncated, not a checkpoint at all, or in the '
                               'pre-1.6 format with objects outside the allow-list)') from None
        raise RuntimeError(
            f'refusing to load checkpoint {filename}: it holds objects that are not plain '
            f'weights or MMEngine training state, and loading them could run code. '
            f'Details: {err}') from None
    except (EOFError, RuntimeError, OSError, ValueError) as err:
        raise RuntimeError(f'checkpoint {filename} is unreadable ({type(err).__name__}: '
                           f'{err}); is it truncated or not a PyTorch checkpoint?') from err


def install_safe_local_loader():
    """Routes MMEngine's loading of local files (resume, ``load_from``, ``Pretrained``
    init) through :func:`safe_torch_load`."""
    CheckpointLoader.register_scheme(prefixes='', force=True)(_load_from_local_safely)


def _load_from_local_safely(filename, map_location):
    filename = os.path.expanduser(filename)
    return safe_torch_load(filename, map_location=map_location)
