"""Model conversion: PyTorch / ONNX / int8 TFLite -> checked int8 TFLite Micro model.

This module (standard library only) is the typed API the build hook calls. The
work runs in the converter environment (see :mod:`.environment`), one worker
process per heavy step (see :mod:`.runner`); the results are published into
``output_dir`` atomically, and nothing is left there when a step fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional

from ..errors import ModelFileError, ProcessError, TinyMLError
from .environment import default_core_dir, ensure_converter_python
from .runner import Worker, cancel_worker, finish_worker, run_worker, start_worker

__all__ = [
    "ConversionRequest",
    "ConversionResult",
    "convert_model",
    "default_core_dir",
    "ensure_converter_python",
    "TORCH_SUFFIXES",
    "MODEL_SUFFIXES",
]

TORCH_SUFFIXES = (".pth", ".pt", ".pt2")
MODEL_SUFFIXES = (*TORCH_SUFFIXES, ".onnx", ".tflite")
TFLITE_NAME = "model_int8.tflite"
GOLDEN_NAME = "golden.json"
REPORT_NAME = "report.json"
PROGRESS_WIDTH = 44


@dataclass(frozen=True)
class ConversionRequest:
    """What to convert and how; paths may be relative to the current directory."""

    model: Path  # .pth .pt .pt2 .onnx .tflite
    output_dir: Path  # results published here atomically
    model_class: Optional[str] = None  # "path/to/file.py:ClassName"
    model_kwargs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    input_shape: Optional[tuple[int, ...]] = None  # model's own layout, batch 1
    calibration: Optional[Path] = None  # .npy/.npz (N x input shape), image folder, CSV
    validation: Optional[Path] = None  # .npz with x and y (labels) -> accuracy
    trust_pickle: bool = False
    min_calibration_samples: int = 10
    max_accuracy_drop: Optional[float] = None  # percentage points; None = report only
    golden_vectors: int = 4


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


def progress_line(index: int, total: int, label: str, seconds: float, extra: str = "") -> str:
    head = f"TinyML: [{index}/{total}] {label} "
    dots = "." * max(3, PROGRESS_WIDTH - len(head))
    tail = f" {seconds:.1f} s" + (f" ({extra})" if extra else "")
    return head + dots + tail


# What a file's first bytes say it is: (description, suffixes that may hold it).
_CONTENT_KINDS = {
    "tflite": ("a TFLite flatbuffer", (".tflite",)),
    "zip": ("a zip archive as written by torch.save / torch.jit.save / torch.export.save",
            TORCH_SUFFIXES),
    "pickle": ("a Python pickle (legacy torch.save)", (".pth", ".pt")),
    "hdf5": ("an HDF5 file (a Keras .h5 model)", ()),
    "onnx": ("an ONNX model", (".onnx",)),
}
_ONNX_SECOND_FIELDS = (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42)  # producer, graph, ...


def sniff_format(head: bytes) -> str:
    """The kind of model the first bytes show (a key of _CONTENT_KINDS), "" if unknown."""
    if len(head) >= 8 and head[4:8] == b"TFL3":
        return "tflite"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if len(head) >= 3 and head[0] == 0x08 and 1 <= head[1] <= 20 and (
        head[2] in _ONNX_SECOND_FIELDS
    ):
        return "onnx"
    return ""


def _check_content(model: Path) -> None:
    """Refuse a file whose content is another format than its extension says."""
    with model.open("rb") as handle:
        head = handle.read(16)
    kind = sniff_format(head)
    if not kind:
        return  # unknown content: the format's own reader reports what is wrong
    what, suffixes = _CONTENT_KINDS[kind]
    if model.suffix in suffixes:
        if kind == "tflite":
            from ..analysis.tflite_reader import parse_tflite

            parse_tflite(model.read_bytes(), str(model))  # damaged / truncated -> error
        return
    if suffixes:
        hint = f"Rename it to {model.stem}{'/'.join(suffixes)} (whichever it is), or give " \
            "the file that was meant."
    else:
        hint = "Keras models are not supported: export it to ONNX (tf2onnx) or to a full-int8 " \
            ".tflite and use that file."
    raise ModelFileError(
        f"{model} is named {model.suffix} but its content is {what}.", hint)


def _check_model_file(model: Path) -> None:
    if not model.is_file():
        raise ModelFileError(f"Model file {model} not found.", "Check the path.")
    if model.suffix not in MODEL_SUFFIXES:
        hint = "Supported: " + ", ".join(MODEL_SUFFIXES) + "."
        if model.suffix in (".h5", ".keras"):
            hint = "Convert the Keras model to .tflite (full int8) or .onnx first. " + hint
        raise ModelFileError(f"{model}: unsupported model format {model.suffix or '(none)'}.",
                             hint)
    if model.stat().st_size == 0:
        raise ModelFileError(f"{model} is empty (0 bytes).",
                             "The file was not written completely; export the model again.")
    _check_content(model)


class _Pipeline:
    def __init__(self, python: Path, work: Path, log: Callable[[str], None], total: int) -> None:
        self.python, self.work, self.log, self.total = python, work, log, total
        self.index = 0
        self.stages: dict[str, dict[str, float]] = {}
        self.arena_breakdown: dict[str, Any] = {}

    def step(self, key: str, label: str, request: dict[str, Any]) -> dict[str, Any]:
        self.index += 1
        started = time.monotonic()
        result = run_worker(self.python, {"step": key, "tag": key, **request}, self.work, self.log,
                            step=label)
        seconds = time.monotonic() - started
        self.stages[key] = {"seconds": round(seconds, 2),
                            "peak_rss_mb": float(result.get("peak_rss_mb", 0.0))}
        extra = ""
        if key == "quantize":
            label = f"int8 quantization ({result.get('samples')} samples)"
        if key == "checks" and "top1_agreement" in result:
            label = "checks"
            extra = (f"int8 vs float top-1 agreement {result['top1_agreement']:.1f} %, "
                     f"max |err| {result['max_abs_err']:.3g}")
        self.log(progress_line(self.index, self.total, label, seconds, extra))
        return result

    def split_step(
        self, worker: Worker, parts: list[tuple[str, str]], request: dict[str, Any]
    ) -> dict[str, Any]:
        """Send a preloaded worker that does several stages its request: a progress line and a
        report entry per stage, from the seconds the worker measured for each."""
        result = finish_worker(worker, {"step": worker.tag, "tag": worker.tag, **request})
        wall = float(result["seconds"])
        later = sum(float(result.get(f"{part}_seconds", 0.0)) for part, _ in parts[1:])
        for i, (part, label) in enumerate(parts):
            self.index += 1
            # The first stage also carries what the worker did not time itself.
            seconds = round(wall - later, 2) if i == 0 else float(result[f"{part}_seconds"])
            self.stages[part] = {"seconds": seconds,
                                 "peak_rss_mb": float(result.get("peak_rss_mb", 0.0))}
            if part == "quantize":
                label = f"int8 quantization ({result.get('samples')} samples)"
            self.log(progress_line(self.index, self.total, label, seconds))
        return result

    def start_arena(self, tflite: Path) -> Worker:
        """Start measuring the arena; it needs only the .tflite, so it runs beside the checks."""
        request = {"step": "arena_search", "tag": "arena_search", "tflite": str(tflite)}
        return start_worker(self.python, "arena_search", self.work, step="arena measurement",
                            request=request)  # fmt: skip

    def finish_arena(self, worker: Worker) -> int:
        """Smallest arena_size (bytes) the TFLM interpreter allocates and invokes in."""
        self.index += 1
        found = finish_worker(worker)
        hi, probes, seconds = int(found["arena"]), int(found["probes"]), float(found["seconds"])
        self.arena_breakdown = dict(found["breakdown"])
        self.stages["arena"] = {"seconds": round(seconds, 2), "probes": probes}
        self.log(progress_line(self.index, self.total, "arena size (TFLM host interpreter)",
                               seconds, f"{hi:,} B"))
        return hi


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert_model(
    request: ConversionRequest, *, core_dir: Path, log: Callable[[str], None]
) -> ConversionResult:
    """Convert ``request.model`` to a checked int8 model published in ``request.output_dir``.

    Raises a :class:`~platformio_plugin.errors.TinyMLError` subclass on every
    failure; ``output_dir`` is then left as it was before the call.
    """
    model = request.model.resolve()
    _check_model_file(model)
    out = request.output_dir.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    python = ensure_converter_python(core_dir, log)
    work = out.parent / f".{out.name}.work"
    shutil.rmtree(work, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    workers: list[Worker] = []  # started ahead of their step: stopped if a step fails
    try:
        result = _convert(request, model, python, work, staging, log, workers)
        _publish(staging, out)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if not isinstance(exc, ProcessError):  # a crash keeps its log for the report
            shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        for worker in workers:
            cancel_worker(worker)
    shutil.rmtree(work, ignore_errors=True)
    return ConversionResult(
        tflite=out / TFLITE_NAME,
        input_layout=result.input_layout,
        source_layout=result.source_layout,
        report=result.report,
        golden=out / GOLDEN_NAME,
        arena_bytes_host=result.arena_bytes_host,
    )


def _publish(staging: Path, out: Path) -> None:
    old: Optional[Path] = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _convert(
    request: ConversionRequest,
    model: Path,
    python: Path,
    work: Path,
    staging: Path,
    log: Callable[[str], None],
    workers: list[Worker],
) -> ConversionResult:
    tflite = staging / TFLITE_NAME
    golden = staging / GOLDEN_NAME
    common: dict[str, Any] = {"label": model.name}
    report: dict[str, Any] = {"model": str(model), "format": model.suffix}
    if model.suffix == ".tflite":
        pipe = _Pipeline(python, work, log, 2)
        shutil.copyfile(model, tflite)
        workers.append(pipe.start_arena(tflite))
        checks = pipe.step("inspect_tflite", "int8 model checks (TFLM interpreter)", {
            **common, "tflite": str(tflite), "out_golden": str(golden),
            "golden_vectors": request.golden_vectors})
        rank = len(checks["io"]["input"]["shape"])
        source_layout, input_layout = layouts(rank, rank == 4)
        source_layout = input_layout
    else:
        float_steps = 4 + (1 if model.suffix in TORCH_SUFFIXES else 0)
        pipe = _Pipeline(python, work, log, float_steps + 1)
        # TensorFlow's import (seconds) overlaps the PyTorch export and the data preparation.
        tf_worker = start_worker(python, "tf_int8", work, step="ONNX -> TensorFlow -> int8",
                                 preload="tf_int8")
        workers.append(tf_worker)
        onnx_src = model
        if model.suffix in TORCH_SUFFIXES:
            exported = pipe.step("export_torch", "PyTorch -> ONNX", {
                **common, "model": str(model), "out_onnx": str(work / "exported.onnx"),
                "model_class": _abs_class(request.model_class),
                "model_kwargs": dict(request.model_kwargs),
                "input_shape": list(request.input_shape) if request.input_shape else None,
                "trust_pickle": request.trust_pickle})
            report["torch_format"] = exported["format"]
            onnx_src = work / "exported.onnx"
        prep = pipe.step("prepare", "ONNX model + calibration data", {
            **common, "model": str(model), "onnx": str(onnx_src),
            "out_onnx": str(work / "model.onnx"),
            "input_shape": list(request.input_shape) if request.input_shape else None,
            "calibration": str(request.calibration.resolve()) if request.calibration else None,
            "validation": str(request.validation.resolve()) if request.validation else None,
            "min_samples": request.min_calibration_samples})
        tf_info = pipe.split_step(tf_worker, [
            ("onnx2tf", "ONNX -> TensorFlow (onnx2tf)"), ("quantize", "int8 quantization")], {
            **common, "onnx": str(work / "model.onnx"), "tf_dir": str(work / "tf"),
            "calib": str(work / "calib.npy"), "input_name": prep["input_name"],
            "input_shape": prep["input_shape"], "out_tflite": str(tflite)})
        workers.append(pipe.start_arena(tflite))
        checks = pipe.step("checks", "checks", {
            **common, "tflite": str(tflite), "onnx": str(work / "model.onnx"),
            "compare_x": str(work / "compare_x.npy"),
            "compare_y": str(work / "compare_y.npy") if prep["labels"] else None,
            "layout": tf_info["layout"], "out_golden": str(golden),
            "golden_vectors": request.golden_vectors,
            "max_accuracy_drop": request.max_accuracy_drop})
        report["calibration_samples"] = prep["calibration_samples"]
        source_layout, input_layout = layouts(
            len(prep["input_shape"]), tf_info["layout"] == "channels_last")
        report["source_input_shape"] = prep["input_shape"]
    arena = pipe.finish_arena(workers[-1])
    for key in ("peak_rss_mb", "seconds"):
        checks.pop(key, None)
    report.update(checks)
    report.update({
        "stages": pipe.stages,
        "tflite_bytes": tflite.stat().st_size,
        "tflite_sha256": _sha256(tflite),
        "arena_bytes_host": arena,
        "arena_breakdown": pipe.arena_breakdown,
        "input_layout": input_layout,
        "source_layout": source_layout,
    })
    (staging / REPORT_NAME).write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return ConversionResult(tflite, input_layout, source_layout, MappingProxyType(report),
                            golden, arena)


def _abs_class(spec: Optional[str]) -> Optional[str]:
    """Make the file part of ``file.py:Class`` absolute (the worker runs elsewhere)."""
    if not spec:
        return None
    file_part, sep, cls = spec.rpartition(":")
    if not sep or not file_part:
        return spec
    return f"{Path(file_part).resolve()}:{cls}"


def render_error(exc: TinyMLError) -> str:
    """The one ``Error: ...`` line (plus indented hint) shown to users."""
    return "Error: " + exc.render()
