from .kdas_distiller import KDASDistiller, ModuleOutputRecorder

__all__ = ['KDASDistiller', 'ModuleOutputRecorder']
