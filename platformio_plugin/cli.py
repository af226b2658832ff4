"""Command line: ``python -m platformio_plugin convert ...`` and ``setup-converter``.

User mistakes print one ``Error: ...`` message (no traceback) and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from .errors import ConfigError, TinyMLError


def _log(line: str) -> None:
    print(line, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m platformio_plugin",
        description="pio-tinyml: convert PyTorch / ONNX / int8 TFLite models for TFLite Micro.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="convert a model to a checked int8 .tflite")
    conv.add_argument("model", type=Path, help=".pth .pt .pt2 .onnx or int8 .tflite")
    conv.add_argument("--out", type=Path, required=True, help="output folder")
    conv.add_argument("--model-class", help="path/to/file.py:ClassName (for a state_dict)")
    conv.add_argument("--model-kwargs", default="{}", help="constructor kwargs as JSON")
    conv.add_argument("--input-shape", help="model's own layout, batch 1, e.g. 1,1,32,32")
    conv.add_argument("--calibration", type=Path, help=".npy/.npz/.csv or image folder")
    conv.add_argument("--validation", type=Path, help=".npz with x and y (labels)")
    conv.add_argument("--trust-pickle", action="store_true",
                      help="allow loading a whole pickled model (runs code from the file)")
    conv.add_argument("--min-calibration-samples", type=int, default=10)
    conv.add_argument("--max-accuracy-drop", type=float,
                      help="fail when int8 loses more than this many percentage points")
    conv.add_argument("--golden-vectors", type=int, default=4)
    conv.add_argument("--core-dir", type=Path, help="PlatformIO core dir (converter lives here)")
    conv.add_argument("--json", action="store_true", help="print the result as JSON at the end")
    setup = sub.add_parser("setup-converter", help="create the converter environment now")
    setup.add_argument("--core-dir", type=Path)
    return parser


def _kwargs(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"--model-kwargs {text!r} is not valid JSON ({exc}).",
                          'Example: --model-kwargs \'{"num_classes": 10}\'') from None
    if not isinstance(value, dict):
        raise ConfigError(f"--model-kwargs {text!r} is not a JSON object.",
                          'Example: --model-kwargs \'{"num_classes": 10}\'')
    return value


def _run(args: argparse.Namespace) -> int:
    from .convert import ConversionRequest, convert_model, default_core_dir
    from .convert.calibcheck import parse_input_shape
    from .convert.environment import ensure_converter_python

    core_dir: Path = args.core_dir or default_core_dir()
    if args.command == "setup-converter":
        python = ensure_converter_python(core_dir, _log)
        _log(f"TinyML: converter python: {python}")
        return 0
    request = ConversionRequest(
        model=args.model,
        output_dir=args.out,
        model_class=args.model_class,
        model_kwargs=_kwargs(args.model_kwargs),
        input_shape=parse_input_shape(args.input_shape) if args.input_shape else None,
        calibration=args.calibration,
        validation=args.validation,
        trust_pickle=args.trust_pickle,
        min_calibration_samples=args.min_calibration_samples,
        max_accuracy_drop=args.max_accuracy_drop,
        golden_vectors=args.golden_vectors,
    )
    result = convert_model(request, core_dir=core_dir, log=_log)
    _log(f"TinyML: wrote {result.tflite} ({result.report.get('tflite_bytes', 0):,} B, "
         f"input {result.input_layout}, arena {result.arena_bytes_host:,} B on the host)")
    if args.json:
        print(json.dumps({
            "tflite": str(result.tflite), "golden": str(result.golden),
            "input_layout": result.input_layout, "source_layout": result.source_layout,
            "arena_bytes_host": result.arena_bytes_host, "report": dict(result.report),
        }, indent=1, sort_keys=True))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except TinyMLError as exc:
        print("Error: " + exc.render(), file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
