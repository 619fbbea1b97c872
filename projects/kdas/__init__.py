"""kdas: Polyp-PVT teachers, PVTv2 students and KDAS distillation for MMSegmentation.

Importing this package registers every component in MMSegmentation's registries and
routes MMEngine's loading of local checkpoints through a ``weights_only`` loader
(see :mod:`kdas.utils.safe_checkpoint`).
"""
from . import datasets, engine, evaluation, models, visualization  # noqa: F401  (registration)
from .utils import install_safe_local_loader
from .version import __version__

install_safe_local_loader()

__all__ = ['__version__']
