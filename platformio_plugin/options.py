"""Every `custom_tinyml_*` option, declared once.

This table drives parsing and validation (``config.py``), the error messages
(with "did you mean" suggestions) and the README's options table
(``render_options_table``). PlatformIO hands `custom_*` options over as raw
strings, so the plugin owns their schema.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, fields
from typing import Any, Callable, Mapping, Optional

from . import option_values as values
from .convert.frontends import FRONTENDS
from .errors import ConfigError
from .option_values import parse_shape
from .tflm.cpu import KERNEL_OPTIONS

PREFIX = "custom_tinyml_"


@dataclass(frozen=True)
class Option:
    """One `custom_tinyml_<name>` option."""

    name: str
    type_name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    example: str = ""

    @property
    def key(self) -> str:
        return PREFIX + self.name


OPTIONS: tuple[Option, ...] = (
    Option(
        "models",
        "list of paths",
        values.split_list,
        None,
        "Model files to build (.pth .pt .pt2 .onnx .tflite), relative to the project. "
        "Default: every model file in `models/`.",
        "models/kws.onnx",
    ),
    Option(
        "model_class",
        "path:Class",
        values.parse_model_class,
        None,
        "The nn.Module class for a `.pth` state_dict. Default: the only nn.Module "
        "class in `models/<model>.py`.",
        "models/net.py:LeNet",
    ),
    Option(
        "model_kwargs",
        "JSON object",
        values.parse_json_object,
        None,
        "Keyword arguments for the model class constructor.",
        '{"num_classes": 10}',
    ),
    Option(
        "input_shape",
        "dimensions",
        parse_shape,
        None,
        "Input shape in the model's own layout with batch 1 (PyTorch: NCHW). "
        "Needed for `.pth`/`.pt`; read from the file for `.onnx`/`.tflite`/`.pt2`.",
        "1, 1, 28, 28",
    ),
    Option(
        "input_layout",
        "auto | keep | nchw",
        values.choice("auto", "keep", "nchw"),
        "auto",
        "Layout of the device input (ONNX and PyTorch models of rank 3-5). auto: channels-first "
        "inputs that feed a Conv or pooling op go channels-last (NCHW -> NHWC, as TFLite's "
        "kernels want); any other input (Keras/TensorFlow origin, sequences, features) keeps "
        "the model's own layout. keep: always the model's layout. nchw: always channels-last.",
        "keep",
    ),
    Option(
        "frontend",
        "auto | onnx2tf | litert-torch",
        values.choice(*FRONTENDS),
        "auto",
        "How `.pth`/`.pt`/`.pt2` models become a float model before int8 quantization. onnx2tf: "
        "PyTorch -> ONNX -> TensorFlow (onnx2tf). litert-torch: PyTorch -> float TFLite with "
        "LiteRT Torch (its own environment, made on first use; the device input keeps the "
        "model's layout). auto: onnx2tf, then litert-torch when the onnx2tf route fails or its "
        "int8 model falls under `custom_tinyml_max_accuracy_drop`. An error in an env with no "
        "PyTorch model.",
        "litert-torch",
    ),
    Option(
        "calibration",
        "path",
        values.text,
        None,
        "Calibration samples (N x input shape) as .npy/.npz, CSV rows or a folder of "
        "images, in the model's own layout. Default: `models/<model>.calibration.*` or "
        "`models/calibration.*`.",
        "models/calibration.npy",
    ),
    Option(
        "validation",
        "path",
        values.text,
        None,
        "Labelled held-out data (.npz with arrays x and y) for the float vs int8 "
        "accuracy report. Default: `models/<model>.validation.npz`.",
        "models/validation.npz",
    ),
    Option(
        "labels",
        "path",
        values.text,
        None,
        "Text file with one class label per line, compiled into the model header. "
        "Default: `models/<model>.labels.txt`.",
        "models/labels.txt",
    ),
    Option(
        "min_calibration_samples",
        "integer",
        values.parse_positive_int,
        10,
        "Fewest calibration samples accepted.",
        "100",
    ),
    Option(
        "max_accuracy_drop",
        "percent",
        values.parse_non_negative_float,
        None,
        "Fail the build when int8 loses more than this many percentage points of "
        "top-1 agreement (or accuracy, with labels) against float. Default: report only.",
        "1.5",
    ),
    Option(
        "trust_pickle",
        "yes/no",
        values.parse_bool,
        False,
        "Allow loading a whole pickled PyTorch model. Unpickling runs arbitrary code: "
        "only for files you made yourself.",
        "yes",
    ),
    Option(
        "golden_vectors",
        "integer",
        values.parse_positive_int,
        4,
        "Number of input vectors in the generated `tinyml/<model>_golden.h`: exact int8 "
        "outputs of TFLM's interpreter, checked on the board by `tinyml::run_golden` "
        '(see "Checking the model on the board").',
        "8",
    ),
    Option(
        "test_suite",
        "auto | yes | no",
        values.choice("auto", "yes", "no"),
        "auto",
        "Write `test/test_tinyml_golden/test_main.cpp` (when absent): a `pio test` suite that "
        "runs every model's golden vectors on the board (Unity, or PASS/FAIL lines with "
        "`test_framework = custom`). auto: when the project has a `test/` folder already "
        "(with one, PlatformIO installs the test framework on every build).",
        "yes",
    ),
    Option(
        "kernels",
        "auto | cmsis-nn | reference",
        values.choice(*KERNEL_OPTIONS),
        "auto",
        "TFLM kernel set. auto: CMSIS-NN on Arm Cortex-M, reference elsewhere.",
        "reference",
    ),
    Option(
        "runtime",
        "tflm | aot | none",
        values.choice("tflm", "aot", "none"),
        "tflm",
        "tflm: build and link TFLite Micro (+ CMSIS-NN) for the env's ops. aot: generate "
        "each model as C++ that calls the env's kernels node by node over a statically "
        "planned arena (no interpreter; CMSIS-NN on Arm Cortex-M without Helium, TFLM's "
        "reference kernels on any board). none: only generate the model headers, for "
        "projects that bring their own TFLM library.",
        "none",
    ),
    Option(
        "aot_in_place",
        "auto | no",
        values.choice("auto", "no"),
        "auto",
        "With custom_tinyml_runtime = aot. auto: a convolution or depthwise convolution whose "
        "input dies at it runs in place, as four calls over bands of rows, where that lowers "
        "the arena's peak (the smallest RAM; each call more costs the kernel's setup: "
        "CMSIS-NN's 1x1 convolution sums its filter once per call, +2.3 % instructions on "
        "KWS DS-CNN). no: every layer in one call over whole tensors (the fewest "
        "instructions).",
        "no",
    ),
    Option(
        "probe",
        "auto | no",
        values.choice("auto", "no"),
        "auto",
        "auto: on an Arm Cortex-M0/M0+/M3/M4/M7/M23/M33/M35P board, run each model during the "
        "build on an emulated core of the board's kind, with the firmware's own TFLM library: "
        "kArenaSize measured, golden vectors checked, instructions per layer counted, the "
        "runtime's flash as linked; with custom_tinyml_runtime = aot, the generated code run "
        "alike: golden vectors checked, instructions counted, kArenaSize the plan. no: use the "
        "host's estimate (+10 %) instead (aot: run nothing).",
        "no",
    ),
    Option(
        "arena_size",
        "bytes",
        values.parse_positive_int,
        None,
        "Force the tensor arena size (bytes) instead of the measured one; on a probed board the "
        "build checks that the model runs with it (aot: at least the plan's peak, refused "
        "below it).",
        "65536",
    ),
    Option(
        "sources_dir",
        "path",
        values.text,
        None,
        "Local directory holding the pinned TFLM / CMSIS-NN source trees (offline or "
        "air-gapped machines). Also: environment variable PIO_TINYML_SOURCES.",
        "~/tinyml-sources",
    ),
    Option(
        "allow_sources_mismatch",
        "yes/no",
        values.parse_bool,
        False,
        "Accept a local TFLM source tree of another version than the pinned one.",
        "yes",
    ),
    Option(
        "kernel_optimization",
        "flag",
        values.optimization_flag,
        "-O2",
        "Optimization level for TFLM/CMSIS-NN kernel sources (the rest uses -Os).",
        "-O3",
    ),
    Option(
        "library_flags",
        "flags",
        values.library_flags,
        (),
        "Extra compiler flags for the TFLM/CMSIS-NN library only. It is otherwise compiled "
        "with the board's CPU, FPU and ABI flags and TFLM's own defines, never the "
        "framework's or the project's defines and include folders.",
        "-DTF_LITE_STRIP_ERROR_STRINGS",
    ),
    Option(
        "runtime_ram",
        "bytes",
        values.parse_positive_int,
        4096,
        "RAM the TFLM runtime needs besides the arena (interpreter, resolver, stack "
        "headroom), counted in the board budget check.",
        "8192",
    ),
    Option(
        "runtime_flash",
        "bytes",
        values.parse_positive_int,
        65536,
        "Flash the TFLM runtime needs besides the model, counted in the board budget check.",
        "98304",
    ),
)

OPTIONS_BY_KEY: Mapping[str, Option] = {opt.key: opt for opt in OPTIONS}


def suggest_option(key: str) -> Optional[str]:
    """The closest known option key, for "did you mean" messages."""
    matches = difflib.get_close_matches(key, list(OPTIONS_BY_KEY), n=1, cutoff=0.6)
    return matches[0] if matches else None


@dataclass(frozen=True)
class Options:
    """The typed values of one env's `custom_tinyml_*` options (one field per OPTIONS row,
    same name; `fields_match_table` keeps the two in step)."""

    models: Optional[tuple[str, ...]]
    model_class: Optional[str]
    model_kwargs: Optional[Mapping[str, Any]]
    input_shape: Optional[tuple[int, ...]]
    input_layout: str
    frontend: str
    calibration: Optional[str]
    validation: Optional[str]
    labels: Optional[str]
    min_calibration_samples: int
    max_accuracy_drop: Optional[float]
    trust_pickle: bool
    golden_vectors: int
    test_suite: str
    kernels: str
    runtime: str
    aot_in_place: str
    probe: str
    arena_size: Optional[int]
    sources_dir: Optional[str]
    allow_sources_mismatch: bool
    kernel_optimization: str
    library_flags: tuple[str, ...]
    runtime_ram: int
    runtime_flash: int

    @classmethod
    def defaults(cls) -> Options:
        return cls(**{opt.name: opt.default for opt in OPTIONS})

    def subset(self, names: tuple[str, ...]) -> dict[str, Any]:
        """name -> value for the given options (for fingerprints)."""
        return {name: getattr(self, name) for name in names}


def fields_match_table() -> bool:
    return [f.name for f in fields(Options)] == [opt.name for opt in OPTIONS]


def parse_options(raw: Mapping[str, Any], env_name: str) -> Options:
    """Validate every `custom_tinyml_*` key of one env into typed Options.

    Options not given get their declared default. Unknown keys and bad values
    raise ConfigError naming the env, the key, the value and the fix.
    """
    values: dict[str, Any] = {opt.name: opt.default for opt in OPTIONS}
    for key, value in raw.items():
        if not key.startswith(PREFIX):
            continue
        option = OPTIONS_BY_KEY.get(key)
        if option is None:
            close = suggest_option(key)
            hint = f"Did you mean `{close}`?" if close else "See the options table in the README."
            raise ConfigError(f"Unknown option `{key}` in [env:{env_name}].", hint)
        text = "\n".join(value) if isinstance(value, (list, tuple)) else str(value)
        values[option.name] = parse_value(option, text, f"`{key}` in [env:{env_name}]")
    return Options(**values)


def parse_value(option: Option, text: str, where: str) -> Any:
    """One option's raw text -> its typed value; ConfigError names `where` and the fix."""
    try:
        return option.parse(text)
    except (ValueError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"Bad value for {where}: {text.strip()!r} ({exc}).",
            f"Expected {option.type_name}, for example: {option.key} = {option.example}",
        ) from None


def render_options_table() -> str:
    """The README's options table, generated from OPTIONS."""
    rows = ["| Option | Type | Default | What it does |", "|---|---|---|---|"]
    for opt in OPTIONS:
        default = "" if opt.default in (None, ()) else f"`{opt.default}`"
        if isinstance(opt.default, bool):
            default = "`yes`" if opt.default else "`no`"
        rows.append(f"| `{opt.key}` | {opt.type_name} | {default} | {opt.help} |")
    return "\n".join(rows) + "\n"
