"""Worker entry point, run inside the converter environment.

``python -m platformio_plugin.convert.worker REQUEST.json RESULT.json`` runs the
one step named in the request (a module under ``stages/``) and writes
``{"result": {...}}`` or ``{"error": {"kind", "message", "hint"}}``.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from .. import files
from ..errors import TinyMLError
from .protocol import error_to_dict

STEPS = {
    "export_torch": "torch_export",
    "export_litert_torch": "litert_torch_export",  # in the LiteRT Torch environment
    "prepare": "prepare",
    "tf_int8": "tf_int8",
    "keras_to_tflite": "float_tflite",
    "prepare_tflite": "float_tflite",
    "quantize_tflite": "float_tflite",
    "checks": "checks",
    "inspect_tflite": "checks",
    "arena_search": "arena",
    "probe": "probe",
}


def _peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows: no getrusage
        return 0.0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "--preload":
        # Import the step's tools now, then wait for the caller's "go" (EOF: not wanted).
        preload = getattr(
            importlib.import_module(f"{__package__}.stages.{STEPS[argv[1]]}"), "preload", None
        )
        if preload is not None:
            preload()
        if not sys.stdin.readline():
            return 2
        argv = argv[2:]
    if len(argv) != 2:
        print(
            "usage: python -m platformio_plugin.convert.worker [--preload STEP] "
            "REQUEST.json RESULT.json"
        )
        return 2
    request: dict[str, Any] = json.loads(Path(argv[0]).read_text())
    result_path = Path(argv[1])
    random.seed(0)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    step = str(request["step"])
    module = importlib.import_module(f"{__package__}.stages.{STEPS[step]}")
    try:
        result = module.run(request)
        answer: dict[str, Any] = {"result": result, "peak_rss_mb": round(_peak_rss_mb(), 1)}
        code = 0
    except TinyMLError as exc:
        answer = {"error": error_to_dict(exc)}
        code = 3
    files.write_atomic(result_path, json.dumps(answer, indent=1, sort_keys=True))
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
