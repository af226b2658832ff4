"""Model conversion: PyTorch / ONNX / TensorFlow / TFLite -> checked int8 TFLite Micro model.

Standard library only: this is what the build calls. The work runs in the converter
environment (see :mod:`.environment`), one worker process per heavy step (see
:mod:`.runner`); the results are published into ``output_dir`` at once, and nothing is
left there when a step fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Optional

from .. import files
from ..errors import ProcessError, TinyMLError
from .environment import ensure_converter_python, ensure_litert_torch_python
from .formats import (
    KERAS_SUFFIXES,
    TF_FLOAT_SUFFIXES,
    TORCH_SUFFIXES,
    check_model_file,
    is_float_tflite,
    is_saved_model,
)
from .frontends import LITERT_TORCH, ROUTE_NAMES, fallback_reason, torch_routes
from .protocol import (
    GOLDEN_NAME,
    REPORT_NAME,
    TFLITE_NAME,
    ConversionRequest,
    ConversionResult,
    layouts,
)
from .runner import Worker, cancel_worker, finish_worker, run_worker, start_worker

PROGRESS_WIDTH = 44


def progress_line(index: int, total: int, label: str, seconds: float, extra: str = "") -> str:
    head = f"TinyML: [{index}/{total}] {label} "
    dots = "." * max(3, PROGRESS_WIDTH - len(head))
    tail = f" {seconds:.1f} s" + (f" ({extra})" if extra else "")
    return head + dots + tail


def layout_note(shape: list[int], layout: dict[str, Any]) -> str:
    """What the device input will be, for the progress line: "input (1, 130, 13) kept, feeds
    MatMul" or "input (1, 1, 8, 8) NCHW -> NHWC, feeds Conv"."""
    dims = "(" + ", ".join(str(d) for d in shape) + ")"
    if layout["keep"]:
        return f"input {dims} kept, {layout['why']}"
    first = layouts(len(shape), False)[0]
    return f"input {dims} {first} -> {layout['name']}, {layout['why']}"


class _Pipeline:
    def __init__(self, python: Path, work: Path, log: Callable[[str], None], total: int) -> None:
        self.python, self.work, self.log, self.total = python, work, log, total
        self.index = 0
        self.stages: dict[str, dict[str, float]] = {}
        self.arena_breakdown: dict[str, Any] = {}
        self.warnings: list[str] = []

    def step(
        self, key: str, label: str, request: dict[str, Any], python: Optional[Path] = None
    ) -> dict[str, Any]:
        """Run one step in the converter environment (or ``python``'s) and log its line."""
        self.index += 1
        started = time.monotonic()
        result = run_worker(
            python or self.python, {"step": key, "tag": key, **request}, self.work, step=label
        )
        seconds = time.monotonic() - started
        self.stages[key] = {
            "seconds": round(seconds, 2),
            "peak_rss_mb": float(result.get("peak_rss_mb", 0.0)),
        }
        extra = ""
        if key == "prepare" and result["layout"]["why"]:
            extra = layout_note(result["input_shape"], result["layout"])
        if key in ("quantize", "quantize_tflite"):
            label = f"int8 quantization ({result.get('samples')} samples)"
        if key == "checks" and "top1_agreement" in result:
            label = "checks"
            extra = (
                f"int8 vs float top-1 agreement {result['top1_agreement']:.1f} %, "
                f"max |err| {result['max_abs_err']:.3g}"
            )
        self.log(progress_line(self.index, self.total, label, seconds, extra))
        for warning in result.get("warnings", []):
            self.warnings.append(warning)
            self.log(f"Warning! TinyML: {warning}")
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
            self.stages[part] = {
                "seconds": seconds,
                "peak_rss_mb": float(result.get("peak_rss_mb", 0.0)),
            }
            if part == "quantize":
                label = f"int8 quantization ({result.get('samples')} samples)"
            unrolled = result.get("unrolled") if part == "onnx2tf" else None
            extra = f"{', '.join(unrolled)} unrolled over the sequence" if unrolled else ""
            self.log(progress_line(self.index, self.total, label, seconds, extra))
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
        self.log(
            progress_line(
                self.index, self.total, "arena size (TFLM host interpreter)", seconds, f"{hi:,} B"
            )
        )
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
    check_model_file(model)
    out = request.output_dir.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    python = ensure_converter_python(core_dir, log)
    work = request.work_dir.resolve() if request.work_dir else out.parent / f".{out.name}.work"
    shutil.rmtree(work, ignore_errors=True)
    staging = files.staging_dir(out)
    workers: list[Worker] = []  # started ahead of their step: stopped if a step fails
    try:
        result = _convert(request, model, python, core_dir, work, staging, log, workers)
        files.publish_dir(staging, out)
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


@dataclass
class _Job:
    """One model's conversion: what each route reads, the workers it starts ahead of their
    step (stopped when a step fails) and the report it adds to."""

    request: ConversionRequest
    model: Path
    python: Path  # the converter environment's
    core_dir: Path
    tflite: Path  # the int8 model, in the staging folder
    golden: Path
    log: Callable[[str], None]
    workers: list[Worker]
    report: dict[str, Any]

    def data_request(self) -> dict[str, Any]:
        """The model and the user's samples, as both "prepare" steps read them."""
        request = self.request
        return {
            "label": self.model.name,
            "model": str(self.model),
            "calibration": str(request.calibration.resolve()) if request.calibration else None,
            "validation": str(request.validation.resolve()) if request.validation else None,
            "min_samples": request.min_calibration_samples,
        }

    def check(
        self, pipe: _Pipeline, work: Path, labels: bool, reference: dict[str, Any]
    ) -> dict[str, Any]:
        """The checks step of the int8 model against ``reference``, with the arena measured
        beside it (it needs only the .tflite)."""
        self.workers.append(pipe.start_arena(self.tflite))
        return pipe.step(
            "checks",
            "checks",
            _checks_request(
                self.request, self.model, self.tflite, self.golden, work, labels, reference
            ),
        )


def _convert(
    request: ConversionRequest,
    model: Path,
    python: Path,
    core_dir: Path,
    work: Path,
    staging: Path,
    log: Callable[[str], None],
    workers: list[Worker],
) -> ConversionResult:
    tflite = staging / TFLITE_NAME
    golden = staging / GOLDEN_NAME
    common: dict[str, Any] = {"label": model.name}
    saved_model = is_saved_model(model)
    report: dict[str, Any] = {
        "model": str(model),
        "format": "saved_model" if saved_model else model.suffix,
    }
    job = _Job(request, model, python, core_dir, tflite, golden, log, workers, report)
    if model.suffix == ".tflite" and not saved_model and not is_float_tflite(model):
        pipe = _Pipeline(python, work, log, 2)
        shutil.copyfile(model, tflite)
        workers.append(pipe.start_arena(tflite))
        checks = pipe.step(
            "inspect_tflite",
            "int8 model checks (TFLM interpreter)",
            {
                **common,
                "tflite": str(tflite),
                "out_golden": str(golden),
                "golden_vectors": request.golden_vectors,
            },
        )
        rank = len(checks["io"]["input"]["shape"])
        source_layout, input_layout = layouts(rank, rank == 4)
        source_layout = input_layout
    elif model.suffix in TF_FLOAT_SUFFIXES or saved_model:
        pipe, checks, prep, _ = _tf_float(job, work)
        # TensorFlow models are channels-last already: the device input is the model's own.
        source_layout = input_layout = layouts(len(prep["input_shape"]), True)[1]
    elif model.suffix in TORCH_SUFFIXES:
        pipe, checks, source_layout, input_layout = _torch(job, work)
    else:
        pipe, checks, source_layout, input_layout = _onnx(job, work)
    arena = pipe.finish_arena(workers[-1])
    for key in ("peak_rss_mb", "seconds"):
        checks.pop(key, None)
    report.update(checks)
    report.update(
        {
            "stages": pipe.stages,
            "tflite_bytes": tflite.stat().st_size,
            "tflite_sha256": _sha256(tflite),
            "arena_bytes_host": arena,
            "arena_breakdown": pipe.arena_breakdown,
            "warnings": pipe.warnings,
            "input_layout": input_layout,
            "source_layout": source_layout,
        }
    )
    files.write_atomic(staging / REPORT_NAME, json.dumps(report, indent=1, sort_keys=True) + "\n")
    return ConversionResult(
        tflite, input_layout, source_layout, MappingProxyType(report), golden, arena
    )


def _onnx(job: _Job, work: Path) -> tuple[_Pipeline, dict[str, Any], str, str]:
    """An ONNX model, or a PyTorch model exported to ONNX first -> int8 with onnx2tf and
    TFLiteConverter: (pipeline, checks, source layout, device input layout)."""
    request, model, python = job.request, job.model, job.python
    torch = model.suffix in TORCH_SUFFIXES
    pipe = _Pipeline(python, work, job.log, 5 + (1 if torch else 0))
    # TensorFlow's import (seconds) overlaps the PyTorch export and the data preparation.
    tf_worker = start_worker(
        python, "tf_int8", work, step="ONNX -> TensorFlow -> int8", preload="tf_int8"
    )
    job.workers.append(tf_worker)
    onnx_src = model
    if torch:
        exported = pipe.step(
            "export_torch",
            "PyTorch -> ONNX",
            {**_torch_request(job), "out_onnx": str(work / "exported.onnx")},
        )
        job.report["torch_format"] = exported["format"]
        onnx_src = work / "exported.onnx"
    prep = pipe.step(
        "prepare",
        "ONNX model + calibration data",
        {
            **job.data_request(),
            "onnx": str(onnx_src),
            "out_onnx": str(work / "model.onnx"),
            "input_shape": list(request.input_shape) if request.input_shape else None,
            "input_layout": request.input_layout,
        },
    )
    tf_info = pipe.split_step(
        tf_worker,
        [("onnx2tf", "ONNX -> TensorFlow (onnx2tf)"), ("quantize", "int8 quantization")],
        {
            "label": model.name,
            "onnx": str(work / "model.onnx"),
            "tf_dir": str(work / "tf"),
            "calib": str(work / "calib.npy"),
            "input_name": prep["input_name"],
            "input_shape": prep["input_shape"],
            "keep_layout": prep["layout"]["keep"],
            "out_tflite": str(job.tflite),
        },
    )
    checks = job.check(
        pipe, work, prep["labels"], {"onnx": str(work / "model.onnx"), "layout": tf_info["layout"]}
    )
    job.report["calibration_samples"] = prep["calibration_samples"]
    if tf_info["layout"] == "channels_last":
        source_layout, input_layout = layouts(len(prep["input_shape"]), True)
    else:  # the device input is the model's own
        source_layout = input_layout = prep["layout"]["name"]
    job.report["source_input_shape"] = prep["input_shape"]
    job.report["input_layout_why"] = prep["layout"]["why"]
    return pipe, checks, source_layout, input_layout


def _torch(job: _Job, work: Path) -> tuple[_Pipeline, dict[str, Any], str, str]:
    """A PyTorch model through its routes (custom_tinyml_frontend) until one gives a checked
    int8 model; ``auto`` goes on to LiteRT Torch when the onnx2tf route fails in a conversion
    step or under the accuracy gate, and says why."""
    routes = torch_routes(job.request.frontend, job.request.input_layout)
    for i, route in enumerate(routes):
        folder = work if i == 0 else work / route  # the failed route's logs stay beside
        try:
            result = _litert_torch(job, folder) if route == LITERT_TORCH else _onnx(job, folder)
        except TinyMLError as exc:
            why = fallback_reason(exc) if i + 1 < len(routes) else None
            if why is None:
                raise
            for worker in job.workers:  # the failed route's preloaded and arena workers
                cancel_worker(worker)
            job.workers.clear()
            job.log(f"TinyML: the {route} route failed ({why}) -> trying {routes[i + 1]}")
            job.report["frontend_fallback"] = f"{route} failed: {why}"
            continue
        job.report["frontend"] = route
        job.report["route"] = ROUTE_NAMES[route]
        return result
    raise AssertionError("torch_routes gives at least one route")


def _litert_torch(job: _Job, work: Path) -> tuple[_Pipeline, dict[str, Any], str, str]:
    """PyTorch -> float .tflite with LiteRT Torch (its own environment), then the float
    .tflite route; the device input keeps the model's own layout."""
    export = (
        ensure_litert_torch_python(job.core_dir, job.log),
        "export_litert_torch",
        "PyTorch -> float TFLite (LiteRT Torch)",
        _torch_request(job),
    )
    pipe, checks, prep, exported = _tf_float(job, work, export)
    job.report["torch_format"] = exported["format"]
    source_layout = input_layout = layouts(len(prep["input_shape"]), False)[0]
    return pipe, checks, source_layout, input_layout


def _torch_request(job: _Job) -> dict[str, Any]:
    """What both PyTorch export steps need to load the model."""
    request = job.request
    return {
        "label": job.model.name,
        "model": str(job.model),
        "model_class": _abs_class(request.model_class),
        "model_kwargs": dict(request.model_kwargs),
        "input_shape": list(request.input_shape) if request.input_shape else None,
        "trust_pickle": request.trust_pickle,
    }


# A first step in another environment that writes the float .tflite: (its python, step key,
# progress label, request without the output path).
_Export = tuple[Path, str, str, dict[str, Any]]


def _tf_float(
    job: _Job, work: Path, export: Optional[_Export] = None
) -> tuple[_Pipeline, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A Keras model, a float .tflite or (``export``) a model another environment makes a
    float .tflite of -> int8 with the user's calibration samples; the float .tflite is the
    reference the int8 model is compared with. (pipeline, checks, prepare's and the first
    step's results.)"""
    model = job.model
    saved_model = is_saved_model(model)
    keras = model.suffix in KERAS_SUFFIXES or saved_model
    pipe = _Pipeline(job.python, work, job.log, 4 + (1 if keras or export else 0))
    float_tflite = work / "float.tflite"
    work.mkdir(parents=True, exist_ok=True)
    first: dict[str, Any] = {}
    if export:
        other, key, label, export_request = export
        first = pipe.step(key, label, {**export_request, "out_tflite": str(float_tflite)}, other)
    elif keras:
        pipe.step(
            "keras_to_tflite",
            f"{'SavedModel' if saved_model else 'Keras'} -> float TFLite",
            {"label": model.name, "model": str(model), "out_tflite": str(float_tflite)},
        )
    else:
        shutil.copyfile(model, float_tflite)
    prep = pipe.step(
        "prepare_tflite",
        "float model + calibration data",
        {**job.data_request(), "float_tflite": str(float_tflite)},
    )
    pipe.step(
        "quantize_tflite",
        "int8 quantization",
        {
            "label": model.name,
            "float_tflite": str(float_tflite),
            "calib": str(work / "calib.npy"),
            "input_shape": prep["input_shape"],
            "out_tflite": str(job.tflite),
        },
    )
    checks = job.check(
        pipe, work, prep["labels"], {"float_tflite": str(float_tflite), "layout": "same"}
    )
    job.report["calibration_samples"] = prep["calibration_samples"]
    job.report["source_input_shape"] = prep["input_shape"]
    return pipe, checks, prep, first


def _checks_request(
    request: ConversionRequest,
    model: Path,
    tflite: Path,
    golden: Path,
    work: Path,
    labels: bool,
    reference: dict[str, Any],
) -> dict[str, Any]:
    """The checks step's request: the int8 model against its float ``reference`` (the ONNX
    or the float .tflite, and how the int8 input is laid out) on the held-out samples."""
    return {
        "label": model.name,
        "tflite": str(tflite),
        "compare_x": str(work / "compare_x.npy"),
        "compare_y": str(work / "compare_y.npy") if labels else None,
        "out_golden": str(golden),
        "golden_vectors": request.golden_vectors,
        "max_accuracy_drop": request.max_accuracy_drop,
        **reference,
    }


def _abs_class(spec: Optional[str]) -> Optional[str]:
    """Make the file part of ``file.py:Class`` absolute (the worker runs elsewhere)."""
    if not spec:
        return None
    file_part, sep, cls = spec.rpartition(":")
    if not sep or not file_part:
        return spec
    return f"{Path(file_part).resolve()}:{cls}"
