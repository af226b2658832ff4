"""Build TFLM with add_tflm_library (plain SCons, system g++) and run TFLM's hello_world model.

TFLM is compiled once per run, by the `hello_world_build` fixture, into a core dir of its own
(cold: its build log always shows the selection); the other programs link that archive from
the product's shared TFLM cache there."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.host_build import (
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

pytestmark = [
    pytest.mark.target,
    pytest.mark.skipif(shutil.which("g++") is None, reason="needs the system g++"),
]


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
        REPO / "tests/data/host/hello_world_main.cc",
        gen / "hello_world_data.cc",
        REPO / "src/tinyml/debug_log.cc",
        REPO / "src/tinyml/format.cc",
    ]


@dataclass(frozen=True)
class HostBuild:
    work: Path
    build: Path
    core_dir: Path
    first: subprocess.CompletedProcess[str]


def _build(work: Path, sources_root: Path, tflm_root: Path, core_dir: Path, arena: int) -> Path:
    app = write_hello_world(work, tflm_root, arena=arena)
    return write_sconstruct(
        work, sources_root=sources_root, ops=["FULLY_CONNECTED"], kernels="reference",
        app_sources=app, core_dir=core_dir,
    )  # fmt: skip


@pytest.fixture(scope="module")
def hello_world_build(
    tmp_path_factory: pytest.TempPathFactory, sources_root: Path, tflm_root: Path
) -> HostBuild:
    """hello_world with a 2 KB arena, TFLM compiled from nothing (an empty core dir)."""
    pytest.importorskip("SCons")
    work = tmp_path_factory.mktemp("host-hello-world")
    core_dir = tmp_path_factory.mktemp("host-core")
    build = _build(work, sources_root, tflm_root, core_dir, arena=2048)
    return HostBuild(work, build, core_dir, scons(work))


def test_hello_world_on_host(hello_world_build: HostBuild) -> None:
    first = hello_world_build.first
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "39 runtime, 4 kernels, 0 CMSIS-NN" in first.stdout
    app = hello_world_build.build / "app.elf"
    run = subprocess.run([str(app)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout
    assert "PASS hello_world" in run.stdout
    assert "FAIL" not in run.stdout

    second = scons(hello_world_build.work)  # nothing to rebuild
    assert second.returncode == 0
    assert "g++" not in second.stdout and "is up to date" in second.stdout


def test_too_small_arena_is_reported(
    hello_world_build: HostBuild, tmp_path: Path, sources_root: Path, tflm_root: Path
) -> None:
    assert hello_world_build.first.returncode == 0, hello_world_build.first.stdout[-3000:]
    build = _build(tmp_path, sources_root, tflm_root, hello_world_build.core_dir, arena=256)
    built = scons(tmp_path)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "TFLite Micro: reusing cached build" in built.stdout, built.stdout[-3000:]
    run = subprocess.run([str(build / "app.elf")], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "FAIL begin: AllocateTensors failed" in run.stdout
