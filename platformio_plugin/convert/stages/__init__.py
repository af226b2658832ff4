"""Conversion stages: run only inside the converter environment (torch/onnx/tf)."""
