"""Every `custom_tinyml_*` option, declared once.

This table drives parsing and validation (``config.py``), the error messages
(with "did you mean" suggestions) and the README's options table
(``render_options_table``). PlatformIO hands `custom_*` options over as raw
strings, so the plugin owns their schema.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from .errors import ConfigError

PREFIX = "custom_tinyml_"


def _split_list(raw: str) -> list[str]:
    """PlatformIO style: one item per line; commas also separate items."""
    items: list[str] = []
    for line in raw.replace("\r", "").split("\n"):
        items.extend(part.strip() for part in line.split(","))
    return [item for item in items if item]


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "yes", "true", "on", "y"):
        return True
    if value in ("0", "no", "false", "off", "n", ""):
        return False
    raise ValueError("expected yes or no")


def _parse_int(raw: str) -> int:
    return int(raw.strip().replace("_", ""))


def _parse_positive_int(raw: str) -> int:
    value = _parse_int(raw)
    if value <= 0:
        raise ValueError("expected a positive whole number")
    return value


def _parse_non_negative_float(raw: str) -> float:
    value = float(raw.strip().rstrip("%"))
    if not value >= 0.0 or value == float("inf"):
        raise ValueError("expected a number >= 0")
    return value


def _parse_shape(raw: str) -> tuple[int, ...]:
    text = raw.strip().strip("[]()").strip()
    parts = re.split(r"\s*[,x]\s*|\s+", text) if text else []
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError("expected dimensions such as 1, 1, 28, 28")
    dims = tuple(int(p) for p in parts)
    if any(d <= 0 for d in dims):
        raise ValueError("every dimension must be a positive whole number")
    return dims


def _parse_json_object(raw: str) -> dict[str, Any]:
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict):
        raise ValueError('expected a JSON object such as {"num_classes": 10}')
    return value


def _parse_model_class(raw: str) -> str:
    text = raw.strip()
    path, sep, name = text.rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise ValueError("expected path/to/file.py:ClassName")
    return text


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return value

    parse.__name__ = "one of " + " | ".join(choices)
    return parse


def _optimization_flag(raw: str) -> str:
    value = raw.strip()
    if value.upper() not in ("-O1", "-O2", "-O3", "-OS", "-OFAST"):
        raise ValueError("expected one of -O1, -O2, -O3, -Os, -Ofast")
    return "-O" + value[2:].lower() if value[2:].lower() in ("s", "fast") else value.upper()


def _text(raw: str) -> str:
    return raw.strip()


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
        _split_list,
        None,
        "Model files to build (.pth .pt .pt2 .onnx .tflite), relative to the project. "
        "Default: every model file in `models/`.",
        "models/kws.onnx",
    ),
    Option(
        "model_class",
        "path:Class",
        _parse_model_class,
        None,
        "The nn.Module class for a `.pth` state_dict. Default: the only nn.Module "
        "class in `models/<model>.py`.",
        "models/net.py:LeNet",
    ),
    Option(
        "model_kwargs",
        "JSON object",
        _parse_json_object,
        None,
        "Keyword arguments for the model class constructor.",
        '{"num_classes": 10}',
    ),
    Option(
        "input_shape",
        "dimensions",
        _parse_shape,
        None,
        "Input shape in the model's own layout with batch 1 (PyTorch: NCHW). "
        "Needed for `.pth`/`.pt`; read from the file for `.onnx`/`.tflite`/`.pt2`.",
        "1, 1, 28, 28",
    ),
    Option(
        "calibration",
        "path",
        _text,
        None,
        "Calibration samples (N x input shape) as .npy/.npz, CSV rows or a folder of "
        "images, in the model's own layout. Default: `models/<model>.calibration.*` or "
        "`models/calibration.*`.",
        "models/calibration.npy",
    ),
    Option(
        "validation",
        "path",
        _text,
        None,
        "Labelled held-out data (.npz with arrays x and y) for the float vs int8 "
        "accuracy report. Default: `models/<model>.validation.npz`.",
        "models/validation.npz",
    ),
    Option(
        "labels",
        "path",
        _text,
        None,
        "Text file with one class label per line, compiled into the model header. "
        "Default: `models/<model>.labels.txt`.",
        "models/labels.txt",
    ),
    Option(
        "min_calibration_samples",
        "integer",
        _parse_positive_int,
        10,
        "Fewest calibration samples accepted.",
        "100",
    ),
    Option(
        "max_accuracy_drop",
        "percent",
        _parse_non_negative_float,
        None,
        "Fail the build when int8 loses more than this many percentage points of "
        "top-1 agreement (or accuracy, with labels) against float. Default: report only.",
        "1.5",
    ),
    Option(
        "trust_pickle",
        "yes/no",
        _parse_bool,
        False,
        "Allow loading a whole pickled PyTorch model. Unpickling runs arbitrary code: "
        "only for files you made yourself.",
        "yes",
    ),
    Option(
        "golden_vectors",
        "integer",
        _parse_positive_int,
        4,
        "Number of input vectors whose exact int8 outputs are checked on the target "
        "by the generated `pio test` suite.",
        "8",
    ),
    Option(
        "kernels",
        "auto | cmsis-nn | reference",
        _choice("auto", "cmsis-nn", "reference"),
        "auto",
        "TFLM kernel set. auto: CMSIS-NN on Arm Cortex-M, reference elsewhere.",
        "reference",
    ),
    Option(
        "runtime",
        "tflm | none",
        _choice("tflm", "none"),
        "tflm",
        "tflm: build and link TFLite Micro (+ CMSIS-NN) for the env's ops. none: only "
        "generate the model headers, for projects that bring their own TFLM library.",
        "none",
    ),
    Option(
        "arena_size",
        "bytes",
        _parse_positive_int,
        None,
        "Override the measured tensor arena size (bytes).",
        "65536",
    ),
    Option(
        "sources_dir",
        "path",
        _text,
        None,
        "Local directory holding the pinned TFLM / CMSIS-NN source trees (offline or "
        "air-gapped machines). Also: environment variable PIO_TINYML_SOURCES.",
        "~/tinyml-sources",
    ),
    Option(
        "allow_sources_mismatch",
        "yes/no",
        _parse_bool,
        False,
        "Accept a local TFLM source tree of another version than the pinned one.",
        "yes",
    ),
    Option(
        "kernel_optimization",
        "flag",
        _optimization_flag,
        "-O2",
        "Optimization level for TFLM/CMSIS-NN kernel sources (the rest uses -Os).",
        "-O3",
    ),
    Option(
        "runtime_ram",
        "bytes",
        _parse_positive_int,
        4096,
        "RAM the TFLM runtime needs besides the arena (interpreter, resolver, stack "
        "headroom), counted in the board budget check.",
        "8192",
    ),
    Option(
        "runtime_flash",
        "bytes",
        _parse_positive_int,
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


def parse_options(raw: Mapping[str, Any], env_name: str) -> dict[str, Any]:
    """Validate every `custom_tinyml_*` key of one env; return name -> typed value.

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
        try:
            values[option.name] = option.parse(text)
        except (ValueError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"Bad value for `{key}` in [env:{env_name}]: {text.strip()!r} ({exc}).",
                f"Expected {option.type_name}, for example: {key} = {option.example}",
            ) from None
    return values


def render_options_table() -> str:
    """The README's options table, generated from OPTIONS."""
    rows = ["| Option | Type | Default | What it does |", "|---|---|---|---|"]
    for opt in OPTIONS:
        default = "" if opt.default is None else f"`{opt.default}`"
        if isinstance(opt.default, bool):
            default = "`yes`" if opt.default else "`no`"
        rows.append(f"| `{opt.key}` | {opt.type_name} | {default} | {opt.help} |")
    return "\n".join(rows) + "\n"
