"""examples/seed-compat: the classic hand-written TFLM app (model_data.h, GetModel,
MicroInterpreter, static arena) with the generated resolver and arena size, built and run in
QEMU. Also shows that TFLM's own log (MicroPrintf -> the library's DebugLog) reaches the
emulator's output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers.pio import REPO_ROOT, copy_project, run_pio

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]


def test_seed_compat_runs_in_qemu(tmp_path: Path) -> None:
    project = copy_project("seed-compat", tmp_path)
    ini = project / "platformio.ini"
    ini.write_text(ini.read_text().replace("= symlink://../..\n", f"= symlink://{REPO_ROOT}\n"))
    result = run_pio(["run", "-e", "mps2-an386", "-t", "exec"], project, timeout=1800)
    out = result.stdout
    assert result.returncode == 0, out[-6000:]
    # MicroPrintf goes through src/tinyml/debug_log.cc (DebugLog -> vprintf -> semihosting)
    match = re.search(r"seed-compat: (\d+) model bytes, arena (\d+) of (\d+) bytes used", out)
    assert match, out[-4000:]
    assert int(match.group(2)) <= int(match.group(3))
    assert len(re.findall(r"^x=\S+ y=\S+ sin\(x\)=\S+$", out, re.MULTILINE)) == 8, out[-3000:]
    assert "seed-compat: OK" in out, out[-3000:]
