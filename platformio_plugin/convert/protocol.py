"""What crosses the process boundary of a conversion: the request the build makes, the
result it gets back, the names of the files a conversion publishes, and errors sent by a
worker as plain dicts and raised again as the same typed class.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Optional

from .. import errors
from ..errors import ProcessError, TinyMLError

# What a finished conversion folder holds (published at once, see conversion.py).
TFLITE_NAME = "model_int8.tflite"
GOLDEN_NAME = "golden.json"
REPORT_NAME = "report.json"


@dataclass(frozen=True)
class ConversionRequest:
    """What to convert and how; paths may be relative to the current directory."""

    model: Path  # .pth .pt .pt2 .onnx .tflite
    output_dir: Path  # results published here atomically
    work_dir: Optional[Path] = None  # step logs (kept after a crash); default beside output_dir
    model_class: Optional[str] = None  # "path/to/file.py:ClassName"
    model_kwargs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    input_shape: Optional[tuple[int, ...]] = None  # model's own layout, batch 1
    calibration: Optional[Path] = None  # .npy/.npz (N x input shape), image folder, CSV
    validation: Optional[Path] = None  # .npz with x and y (labels) -> accuracy
    trust_pickle: bool = False
    min_calibration_samples: int = 10
    max_accuracy_drop: Optional[float] = None  # percentage points; None = report only
    golden_vectors: int = 4
    input_layout: str = "auto"  # auto | keep | nchw (custom_tinyml_input_layout)
    frontend: str = "auto"  # PyTorch only: auto | onnx2tf | litert-torch (custom_tinyml_frontend)


@dataclass(frozen=True)
class ConversionResult:
    """The published int8 model and what was measured about it."""

    tflite: Path  # int8 model in output_dir
    input_layout: str  # "NHWC"/"NCHW" (rank 4): what the converted model's input expects
    source_layout: str  # layout the user's data/model used
    report: Mapping[str, Any]  # per-stage seconds and peak RSS, agreement, errors, accuracy
    golden: Path  # golden.json: int8 input vectors and TFLM's exact int8 outputs
    arena_bytes_host: int  # smallest arena tflite_micro's host interpreter runs in


_LAYOUTS = {3: ("NCW", "NWC"), 4: ("NCHW", "NHWC"), 5: ("NCDHW", "NDHWC")}


def layouts(rank: int, channels_last: bool) -> tuple[str, str]:
    """(source_layout, input_layout) names for a model input of this rank."""
    first, last = _LAYOUTS.get(rank, ("N" + "C" * max(rank - 1, 0), "N" + "C" * max(rank - 1, 0)))
    return first, (last if channels_last else first)


def error_from_dict(data: dict[str, Any]) -> TinyMLError:
    """Rebuild a typed error sent by the worker; unknown kinds become ConversionError."""
    kind = str(data.get("kind", "ConversionError"))
    message = str(data.get("message", "conversion failed"))
    hint = str(data.get("hint", ""))
    cls = getattr(errors, kind, None)
    if kind == "UnsupportedOpsError":
        offenders = [(str(n), str(o)) for n, o in data.get("offenders", [])]
        return errors.UnsupportedOpsError(str(data.get("model", "model")), offenders, hint)
    if isinstance(cls, type) and issubclass(cls, TinyMLError) and cls is not ProcessError:
        return cls(message, hint)
    return errors.ConversionError(message, hint)


def error_to_dict(exc: TinyMLError) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": type(exc).__name__, "message": exc.message, "hint": exc.hint}
    if isinstance(exc, errors.UnsupportedOpsError):
        data["offenders"] = [list(o) for o in exc.offenders]
        data["model"] = exc.message.split(" uses ops ", 1)[0]
    return data
