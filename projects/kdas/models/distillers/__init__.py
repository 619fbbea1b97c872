from .recording_distiller import KDASDistiller, ModuleOutputRecorder, RecordingDistiller

__all__ = ['KDASDistiller', 'ModuleOutputRecorder', 'RecordingDistiller']
