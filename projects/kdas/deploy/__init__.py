"""Deployment: frame segmenters (PyTorch, ONNX Runtime), video, int8 quantisation."""
