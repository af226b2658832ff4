"""tinyml::format (src/tinyml/format.cc), which log_line and TFLM's DebugLog use so that
floats print on C libraries without float printf (newlib-nano): compiled with the host's g++
and compared, line by line, with the host C library's snprintf."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_format_matches_the_c_library(tmp_path: Path) -> None:
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.fail("g++ is missing: ./scripts/bootstrap installs it")
    exe = tmp_path / "format_check"
    subprocess.run(
        [compiler, "-std=gnu++17", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-format-security",
         "-Wno-format-nonliteral", f"-I{REPO / 'src'}",
         str(REPO / "tests/data/host/format_check.cc"), str(REPO / "src/tinyml/format.cc"),
         "-o", str(exe), "-lm"],
        check=True, timeout=120,
    )  # fmt: skip
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout
    assert " 0 mismatches" in done.stdout and "MISMATCH" not in done.stdout, done.stdout
