"""The entry points of the package for scripts: loading a trained segmenter, and the
modules and export of ``kdas.deploy`` under one name."""
from .deploy.export import (ONNX_METADATA_KEYS, ONNX_OPSET, DeployModel, ProbabilityModel,
                            deploy_metadata, export_onnx, polyp_logits, polyp_probability,
                            write_onnx_metadata)
from .deploy.loading import load_segmenter

__all__ = [
    'DeployModel', 'ONNX_METADATA_KEYS', 'ONNX_OPSET', 'ProbabilityModel', 'deploy_metadata',
    'export_onnx', 'load_segmenter', 'polyp_logits', 'polyp_probability', 'write_onnx_metadata'
]
