"""The real-platform tier: the examples built against a real dev-platform's own builder
(platform-ststm32 and the stm32duino Arduino core), offline.

Runs when PIO_TINYML_REAL_PLATFORMS names a folder holding `platforms/ststm32/` (the
platform) and `packages/<name>/` (framework-arduinoststm32, framework-cmsis,
framework-cmsis-dsp, toolchain-gccarmnoneeabi, each with package.json and a `.piopm` whose
owner is platformio); CONTRIBUTING.md says how to lay one out. Each test module gets its own
PlatformIO core dir whose packages link to that folder; the converter environment and the
shared TFLM build cache are the repository's (`.pio-core/tinyml`), so every build of a
(core, FPU, ABI, ops) after the first reuses its TFLM library.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from helpers.pio import REPO_ROOT, copy_project, run_pio

pytestmark = [pytest.mark.real, pytest.mark.usefixtures("pio_ready", "sources_root")]

VARIABLE = "PIO_TINYML_REAL_PLATFORMS"
REUSED = re.compile(r"TinyML: TFLite Micro: reusing cached build ([0-9a-f]{12})")
BUILT = re.compile(r"TinyML: TFLite Micro: stored build ([0-9a-f]{12})")
TFLM_DEFINES = ("-DTF_LITE_STATIC_MEMORY", "-DCMSIS_NN")
SHIM = Path(__file__).resolve().parents[1] / "data/real/netduinoplus2_shim.cpp"


@pytest.fixture(scope="module")
def real_root() -> Path:
    value = os.environ.get(VARIABLE)
    if not value:
        pytest.skip(f"{VARIABLE} is not set: no local real dev-platform (see CONTRIBUTING.md)")
    root = Path(value)
    assert (root / "platforms/ststm32/platform.json").is_file(), f"{root}: no platforms/ststm32"
    return root


@pytest.fixture(scope="module")
def real_env(real_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A core dir with the folder's packages, the repository's tool-scons and tinyml/."""
    core = tmp_path_factory.mktemp("real-core")
    (core / "packages").mkdir()
    for package in sorted((real_root / "packages").iterdir()):
        (core / "packages" / package.name).symlink_to(package, target_is_directory=True)
    repo_core = REPO_ROOT / ".pio-core"
    shutil.copytree(repo_core / "packages/tool-scons", core / "packages/tool-scons")
    (core / "tinyml").symlink_to(repo_core / "tinyml", target_is_directory=True)
    return {"PLATFORMIO_CORE_DIR": str(core)}


def _project(example: str, dest: Path, real_root: Path, boards: list[str]) -> Path:
    """The example with one Arduino env per board on the local ststm32 platform."""
    project = copy_project(example, dest)
    ini = project / "platformio.ini"
    text = re.sub(r"\n\[env:(?!\]).*", "", ini.read_text(), flags=re.S)  # keep [env] only
    text = text.replace("lib_deps = symlink://../..", f"lib_deps = symlink://{REPO_ROOT}")
    lines = [text.rstrip(), ""]
    for board in boards:
        lines += [
            f"[env:{board}]",
            f"platform = symlink://{real_root / 'platforms/ststm32'}",
            f"board = {board}",
            "framework = arduino",
            "",
        ]
    ini.write_text("\n".join(lines))
    return project


def _run_in_netduinoplus2(firmware: Path, last_line: str, timeout: float = 120) -> str:
    """The F4 firmware's USART2 output in QEMU's STM32F405 machine, up to the line holding
    `last_line` (QEMU never exits by itself)."""
    command = ["qemu-system-arm", "-M", "netduinoplus2", "-nographic", "-monitor", "none",
               "-serial", "null", "-serial", "stdio", "-kernel", str(firmware)]  # fmt: skip
    lines: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as qemu:
        timer = threading.Timer(timeout, qemu.kill)  # a hang ends the run, the assert says so
        timer.start()
        assert qemu.stdout is not None
        for line in qemu.stdout:
            lines.append(line)
            if last_line in line:
                break
        qemu.kill()
        timer.cancel()
    out = "".join(lines)
    assert last_line in out, out[-3000:]
    return out


def _build(project: Path, env: str, real_env: dict[str, str], *args: str) -> str:
    result = run_pio(["run", "-e", env, *args], project, env=real_env, timeout=3600)
    assert result.returncode == 0, result.stdout[-8000:]
    return result.stdout


def test_mnist_on_three_boards_one_library_per_core(
    tmp_path: Path, real_root: Path, real_env: dict[str, str]
) -> None:
    """mnist-pytorch for F446RE (M4F), G071RB and G070RB (both M0+), H743ZI (M7): the two
    M0+ boards share one TFLM library (the second reuses it), framework sources compile
    without TFLM's defines, the IDE data lists TFLM's include folder; the F446RE firmware,
    run in QEMU's STM32F405 machine, classifies the digits and its log_line prints floats
    with the framework's newlib-nano."""
    boards = ["nucleo_f446re", "nucleo_g071rb", "nucleo_g070rb", "nucleo_h743zi"]
    project = _project("mnist-pytorch", tmp_path, real_root, boards)
    shutil.copy(SHIM, project / "src" / SHIM.name)
    outputs = {board: _build(project, board, real_env, "-v") for board in boards}
    keys = {}
    for board, out in outputs.items():
        match = REUSED.search(out) or BUILT.search(out)
        assert match, out[-6000:]
        keys[board] = match.group(1)
        print(f"{board}: TFLM {keys[board]} ({'reused' if REUSED.search(out) else 'built'})")
    assert keys["nucleo_g071rb"] == keys["nucleo_g070rb"]
    assert REUSED.search(outputs["nucleo_g070rb"]), outputs["nucleo_g070rb"][-6000:]
    assert len({keys["nucleo_f446re"], keys["nucleo_g071rb"], keys["nucleo_h743zi"]}) == 3
    assert "Warning!" in outputs["nucleo_g071rb"]  # M0+: no DSP/SIMD

    for board, out in outputs.items():
        framework_lines = [
            ln for ln in out.splitlines()
            if " -c " in ln and "FrameworkArduino" in ln and ln.rstrip().endswith((".c", ".cpp"))
        ]  # fmt: skip
        assert framework_lines, f"{board}: no framework compile line in the verbose log"
        for line in framework_lines:
            assert not any(d in line for d in TFLM_DEFINES), line
            assert "tflite-micro-" not in line, line
        main = [ln for ln in out.splitlines() if " -c " in ln and ln.rstrip().endswith("main.cpp")]
        assert main and all(d in main[0] for d in TFLM_DEFINES), main

    meta = run_pio(
        ["project", "metadata", "-e", "nucleo_f446re", "--json-output"], project, env=real_env
    )
    assert meta.returncode == 0, meta.stdout[-4000:]
    data = json.loads(meta.stdout[meta.stdout.index("{") :])["nucleo_f446re"]
    includes = [p for group in data["includes"].values() for p in group]
    assert any(Path(p).name.startswith("tflite-micro-") for p in includes), includes
    assert "CMSIS_NN" in {d.split("=")[0] for d in data["defines"]}

    firmware = project / ".pio/build/nucleo_f446re/firmware.elf"
    out = _run_in_netduinoplus2(firmware, "accuracy: ")
    predictions = re.findall(r"^sample \d+: predicted (\d) \(true (\d)\)\r?$", out, re.M)
    assert len(predictions) == 20, out
    correct = sum(p == t for p, t in predictions)
    assert correct >= 18, out
    assert f"accuracy: {correct}/20 = {correct * 5:.1f} %" in out, out  # %.1f shows digits


def test_person_detection_fits_where_it_can(
    tmp_path: Path, real_root: Path, real_env: dict[str, str]
) -> None:
    """person-detection-tflite (300 KB of model) builds for F446RE and H743ZI; on G071RB
    (128 KB flash) the build stops before compiling with the flash budget named."""
    boards = ["nucleo_f446re", "nucleo_h743zi", "nucleo_g071rb"]
    project = _project("person-detection-tflite", tmp_path, real_root, boards)
    for board in boards[:2]:
        out = _build(project, board, real_env)
        assert re.search(r"Flash: \[", out), out[-3000:]
    small = run_pio(["run", "-e", "nucleo_g071rb"], project, env=real_env, timeout=3600)
    assert small.returncode != 0
    assert "flash" in small.stdout.lower() and "131,072" in small.stdout, small.stdout[-3000:]
    assert "Traceback" not in small.stdout
