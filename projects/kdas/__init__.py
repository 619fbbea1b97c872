"""kdas: Polyp-PVT teachers, PVTv2 students and KDAS distillation for MMSegmentation.

Importing this package registers every component in MMSegmentation's registries.
"""
from .version import __version__

__all__ = ['__version__']
