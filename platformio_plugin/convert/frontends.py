"""Which route a PyTorch model takes to a float model (``custom_tinyml_frontend``), and when
``auto`` tries the second one. Standard library only: config, cache and conversion use it.

- ``onnx2tf``: PyTorch -> ONNX -> TensorFlow (onnx2tf) -> int8, the device input channels-last
  where it feeds a Conv.
- ``litert-torch``: PyTorch -> float .tflite with LiteRT Torch (its own environment), then the
  float .tflite route's quantizer; the device input keeps the model's layout.
- ``auto``: onnx2tf; when that route fails in a conversion step or its int8 model falls under
  ``custom_tinyml_max_accuracy_drop``, LiteRT Torch.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..errors import (
    AccuracyError,
    ConfigError,
    ConversionError,
    ProcessError,
    TinyMLError,
    UnsupportedOpsError,
)
from .formats import TORCH_SUFFIXES

AUTO, ONNX2TF, LITERT_TORCH = "auto", "onnx2tf", "litert-torch"
FRONTENDS = (AUTO, ONNX2TF, LITERT_TORCH)
ROUTE_NAMES = {
    ONNX2TF: "PyTorch -> ONNX -> TensorFlow (onnx2tf) -> int8",
    LITERT_TORCH: "PyTorch -> float TFLite (LiteRT Torch) -> int8",
}


def applies(suffix: str) -> bool:
    """The option chooses a route only for PyTorch files."""
    return suffix.lower() in TORCH_SUFFIXES


def torch_routes(frontend: str, input_layout: str = AUTO) -> tuple[str, ...]:
    """The routes to try for a PyTorch model, in order. ``auto`` with ``input_layout = nchw``
    has only onnx2tf: LiteRT Torch would not give the channels-last input asked for."""
    if frontend != AUTO:
        return (frontend,)
    return (ONNX2TF,) if input_layout == "nchw" else (ONNX2TF, LITERT_TORCH)


def fallback_reason(error: TinyMLError) -> Optional[str]:
    """Why ``auto`` tries LiteRT Torch after ``error`` of the onnx2tf route, or None when the
    error is one the user fixes (the model file, its class, the data, an option): the other
    route would stop on it as well."""
    first = error.message.strip().splitlines()[0] if error.message.strip() else ""
    if isinstance(error, AccuracyError):
        return f"its int8 model falls under custom_tinyml_max_accuracy_drop: {first}"
    if isinstance(error, ProcessError):
        return f"a conversion tool crashed: {first}"
    if isinstance(error, (ConversionError, UnsupportedOpsError)):
        return first
    return None


def check_frontend(frontend: str, suffixes: Sequence[str], input_layout: str, where: str) -> None:
    """Refuse a frontend that cannot act: set for models none of which is a PyTorch file (an
    .onnx or .tflite has one route), or ``litert-torch`` with ``input_layout = nchw`` (LiteRT
    Torch keeps the model's own input layout). ``where`` names the env or the command."""
    if frontend == AUTO:
        return
    key = "custom_tinyml_frontend"
    if not any(applies(s) for s in suffixes):
        raise ConfigError(
            f"{key} = {frontend} in {where}, but no model there is a PyTorch file "
            f"({', '.join(sorted(set(suffixes))) or 'no models'}): it chooses the route of "
            ".pth/.pt/.pt2 models only.",
            f"Remove {key} (other formats have one route).",
        )
    if frontend == LITERT_TORCH and input_layout == "nchw":
        raise ConfigError(
            f"{key} = litert-torch with custom_tinyml_input_layout = nchw in {where}: LiteRT "
            "Torch keeps the model's own input layout.",
            f"Set custom_tinyml_input_layout = auto, or {key} = onnx2tf for a channels-last "
            "device input.",
        )
