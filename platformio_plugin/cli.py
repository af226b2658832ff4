"""Command line: ``python -m platformio_plugin convert ...`` and ``setup-converter``.

User mistakes print one ``Error: ...`` message (no traceback) and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .errors import TinyMLError
from .options import OPTIONS_BY_KEY, PREFIX, Option, parse_value

# The convert command's flags are the ini options of the same name (same parsers, defaults
# and help): `custom_tinyml_input_shape` is `--input-shape`.
CONVERT_FLAGS = (
    "model_class",
    "model_kwargs",
    "input_shape",
    "input_layout",
    "frontend",
    "calibration",
    "validation",
    "trust_pickle",
    "min_calibration_samples",
    "max_accuracy_drop",
    "golden_vectors",
)


def _log(line: str) -> None:
    print(line, flush=True)


def _flag_parser(option: Option) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return parse_value(option, text, f"--{option.name.replace('_', '-')}")

    return parse


def _add_option_flags(conv: argparse.ArgumentParser) -> None:
    for name in CONVERT_FLAGS:
        option = OPTIONS_BY_KEY[PREFIX + name]
        flag = "--" + name.replace("_", "-")
        if isinstance(option.default, bool):
            conv.add_argument(flag, action="store_true", help=option.help)
        else:
            conv.add_argument(
                flag, type=_flag_parser(option), default=option.default, help=option.help
            )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m platformio_plugin",
        description="pio-tinyml: convert PyTorch / ONNX / int8 TFLite models for TFLite Micro.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="convert a model to a checked int8 .tflite")
    conv.add_argument("model", type=Path, help=".pth .pt .pt2 .onnx or int8 .tflite")
    conv.add_argument("--out", type=Path, required=True, help="output folder")
    _add_option_flags(conv)
    conv.add_argument("--core-dir", type=Path, help="PlatformIO core dir (converter lives here)")
    conv.add_argument("--json", action="store_true", help="print the result as JSON at the end")
    setup = sub.add_parser("setup-converter", help="create the converter environment now")
    setup.add_argument("--core-dir", type=Path)
    setup.add_argument(
        "--litert-torch",
        action="store_true",
        help="also create the LiteRT Torch environment (custom_tinyml_frontend), e.g. before "
        "going offline",
    )
    return parser


def _path(value: Optional[str]) -> Optional[Path]:
    return Path(value) if value else None


def _run(args: argparse.Namespace) -> int:
    from .convert.conversion import convert_model
    from .convert.environment import (
        default_core_dir,
        ensure_converter_python,
        ensure_litert_torch_python,
    )
    from .convert.frontends import check_frontend
    from .convert.protocol import ConversionRequest

    core_dir: Path = args.core_dir or default_core_dir()
    if args.command == "setup-converter":
        python = ensure_converter_python(core_dir, _log)
        _log(f"TinyML: converter python: {python}")
        if args.litert_torch:
            _log(f"TinyML: LiteRT Torch python: {ensure_litert_torch_python(core_dir, _log)}")
        return 0
    check_frontend(args.frontend, [args.model.suffix], args.input_layout, "the command line")
    request = ConversionRequest(
        model=args.model,
        output_dir=args.out,
        model_class=args.model_class,
        model_kwargs=dict(args.model_kwargs or {}),
        input_shape=args.input_shape,
        calibration=_path(args.calibration),
        validation=_path(args.validation),
        trust_pickle=args.trust_pickle,
        min_calibration_samples=args.min_calibration_samples,
        max_accuracy_drop=args.max_accuracy_drop,
        golden_vectors=args.golden_vectors,
        input_layout=args.input_layout,
        frontend=args.frontend,
    )
    result = convert_model(request, core_dir=core_dir, log=_log)
    _log(
        f"TinyML: wrote {result.tflite} ({result.report.get('tflite_bytes', 0):,} B, "
        f"input {result.input_layout or 'as the model has it'}, "
        f"arena {result.arena_bytes_host:,} B on the host)"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "tflite": str(result.tflite),
                    "golden": str(result.golden),
                    "input_layout": result.input_layout,
                    "source_layout": result.source_layout,
                    "arena_bytes_host": result.arena_bytes_host,
                    "report": dict(result.report),
                },
                indent=1,
                sort_keys=True,
            )
        )
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        return _run(_parser().parse_args(argv))  # a bad flag value is a ConfigError too
    except TinyMLError as exc:
        print("Error: " + exc.render(), file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
