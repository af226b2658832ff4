"""Helpers for the conversion tests: run the CLI and scripts in the converter python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "convert"


def core_dir() -> Path:
    env = os.environ.get("PLATFORMIO_CORE_DIR")
    return Path(env) if env else REPO / ".pio-core"


def run_cli(*args: Any, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PLATFORMIO_CORE_DIR=str(core_dir()))
    return subprocess.run(
        [sys.executable, "-m", "platformio_plugin", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def convert_json(*args: Any) -> dict[str, Any]:
    proc = run_cli("convert", *args, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout[proc.stdout.index("\n{") + 1 :])


def run_converter_script(python: Path, script: str, *args: Any) -> Any:
    proc = subprocess.run(
        [str(python), "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])
