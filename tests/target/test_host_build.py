"""Build TFLM with add_tflm_library (plain SCons, system g++) and run TFLM's hello_world model."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from host_build import (
    HELLO_SCALE_IN,
    HELLO_SCALE_OUT,
    HELLO_WORLD,
    HELLO_ZP_IN,
    HELLO_ZP_OUT,
    REPO,
    model_data_cc,
    model_header,
    scons,
    write_sconstruct,
)

# TFLM reference kernels on the host (x86-64, g++) for these int8 inputs of hello_world_int8.
GOLDEN_INPUTS = [[-128], [-97], [-64], [-34], [0], [76]]
GOLDEN_EXPECTED = [[4], [85], [126], [93], [4], [-112]]

pytestmark = pytest.mark.tflm


def write_hello_world(work: Path, tflm_root: Path, arena: int = 2048) -> list[Path]:
    gen = work / "gen"
    (gen / "tinyml").mkdir(parents=True, exist_ok=True)
    data = (tflm_root / HELLO_WORLD).read_bytes()
    header = model_header(
        "hello_world", arena=arena, model_size=len(data), ops=["FULLY_CONNECTED"],
        in_dims=[1, 1], in_q=(HELLO_SCALE_IN, HELLO_ZP_IN),
        out_dims=[1, 1], out_q=(HELLO_SCALE_OUT, HELLO_ZP_OUT),
        golden_inputs=GOLDEN_INPUTS, golden_expected=GOLDEN_EXPECTED,
    )  # fmt: skip
    (gen / "tinyml" / "hello_world.h").write_text(header)
    (gen / "hello_world_data.cc").write_text(model_data_cc("hello_world", data))
    return [
        REPO / "tests/tflm/host/hello_world_main.cc",
        gen / "hello_world_data.cc",
        REPO / "src/tinyml/debug_log.cc",
    ]


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs the system g++")
def test_hello_world_on_host(tmp_path: Path, sources_root: Path, tflm_root: Path) -> None:
    pytest.importorskip("SCons")
    app = write_hello_world(tmp_path, tflm_root)
    build = write_sconstruct(
        tmp_path, sources_root=sources_root, ops=["FULLY_CONNECTED"], kernels="reference",
        app_sources=app,
    )  # fmt: skip
    first = scons(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "39 runtime, 4 kernels, 0 CMSIS-NN" in first.stdout
    run = subprocess.run([str(build / "app.elf")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout
    assert "PASS hello_world" in run.stdout
    assert "FAIL" not in run.stdout

    second = scons(tmp_path)  # nothing to rebuild
    assert second.returncode == 0
    assert "g++" not in second.stdout and "is up to date" in second.stdout


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs the system g++")
def test_too_small_arena_is_reported(tmp_path: Path, sources_root: Path, tflm_root: Path) -> None:
    pytest.importorskip("SCons")
    app = write_hello_world(tmp_path, tflm_root, arena=256)
    build = write_sconstruct(
        tmp_path, sources_root=sources_root, ops=["FULLY_CONNECTED"], kernels="reference",
        app_sources=app,
    )  # fmt: skip
    assert scons(tmp_path).returncode == 0
    run = subprocess.run([str(build / "app.elf")], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "FAIL begin: AllocateTensors failed" in run.stdout
