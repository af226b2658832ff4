"""PyTorch model -> float .tflite with LiteRT Torch (the second PyTorch route).

Runs in the LiteRT Torch environment (see :mod:`..environment`), not the converter's: it
loads the model as the ONNX route does (:func:`.torch_export.load_model`) and writes a float
.tflite, which the converter environment then quantizes as any float .tflite
(:mod:`.float_tflite`). The model keeps its own input layout (PyTorch: NCHW).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import ConversionError
from .torch_export import load_model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def run(request: dict[str, Any]) -> dict[str, Any]:
    import litert_torch
    import torch

    model, shape, kind, _program = load_model(request)
    label = str(request["label"])
    sample = (torch.zeros(shape, dtype=torch.float32),)
    try:
        if kind == "torchscript":  # torch.export takes no ScriptModule: convert it first
            from torch._export.converter import TS2EPConverter

            model = TS2EPConverter(model, sample).convert().module()
        edge = litert_torch.convert(model, sample)
        edge.export(str(Path(request["out_tflite"])))
    except Exception as exc:
        raise ConversionError(
            f"LiteRT Torch could not convert {label}: {type(exc).__name__}: {_first_line(exc)}",
            "Set custom_tinyml_frontend = onnx2tf (CLI: --frontend onnx2tf), or change the "
            "layer it names in the model.",
        ) from None
    return {"format": kind, "input_shape": list(shape)}
