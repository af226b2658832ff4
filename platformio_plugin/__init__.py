"""pio-tinyml: PyTorch / ONNX / int8 TFLite model -> TFLite Micro firmware, inside PlatformIO."""

__version__ = "0.1.0"
