"""The digits example ahead of time on a Cortex-M0+ with 64 KB of flash and 8 KB of RAM
(board mps2-m0plus-64k: linked into those limits, run in QEMU): its `mps2-m0plus-64k` env
(custom_tinyml_runtime = aot) passes the budget check, links and classifies the 20 held-out
digits, and the golden vectors (TFLM's interpreter on the host) come out bit-exact on it. The
same example with the interpreter runtime on the same board does not link: its flash
overflows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers.pio import REPO_ROOT, copy_project, run_pio
from helpers.targets import RUNNER, firmware_size

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]

ENV = "mps2-m0plus-64k"
FLASH, RAM = 64 * 1024, 8 * 1024
INTERPRETER_ENV = """
[env:interpreter-64k]
platform = symlink://{platforms}/emulated-cortex-m
board = mps2-m0plus-64k
test_framework = custom
custom_tinyml_runtime_flash = 16384
custom_tinyml_runtime_ram = 2048
"""


@pytest.fixture(scope="module")
def small_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project("mnist-pytorch", tmp_path_factory.mktemp("small"))
    ini = project / "platformio.ini"
    text = ini.read_text().replace("= symlink://../..\n", f"= symlink://{REPO_ROOT}\n")
    # The golden suite with the project's line-protocol runner (no test framework download).
    text = text.replace(f"board = {ENV}\n", f"board = {ENV}\ntest_framework = custom\n", 1)
    ini.write_text(text + INTERPRETER_ENV.format(platforms=REPO_ROOT / "platforms"))
    (project / "test").mkdir(exist_ok=True)
    (project / "test/test_custom_runner.py").write_text(RUNNER)
    return project


def test_digits_ahead_of_time_fit_64k_flash_8k_ram(small_project: Path) -> None:
    run = run_pio(["run", "-e", ENV, "-t", "exec"], small_project, timeout=1800)
    assert run.returncode == 0, run.stdout[-6000:]
    results = re.findall(r"^sample \d+: predicted (\d) \(true (\d)\)$", run.stdout, re.M)
    assert len(results) == 20, run.stdout[-3000:]
    correct = sum(p == t for p, t in results)
    assert correct >= 18, run.stdout[-3000:]  # as tests/integration/test_examples.py
    size = firmware_size(small_project / ".pio/build" / ENV / "firmware.elf")
    print(
        f"\n{ENV} (aot): .text {size['text']:,} .data {size['data']:,} .bss {size['bss']:,} "
        f"(flash {size['text'] + size['data']:,} of {FLASH:,}, "
        f"RAM {size['data'] + size['bss']:,} of {RAM:,} + stack); {correct}/20 right"
    )
    assert size["text"] + size["data"] <= FLASH
    assert size["data"] + size["bss"] <= RAM

    golden = run_pio(["test", "-e", ENV, "-f", "test_tinyml_golden"], small_project, timeout=1800)
    assert golden.returncode == 0, golden.stdout[-6000:]
    assert "PASS digits_cnn" in golden.stdout, golden.stdout[-3000:]


def test_the_interpreter_does_not_fit_the_same_board(small_project: Path) -> None:
    """The same example with TFLM's interpreter: the link overflows the 64 KB."""
    run = run_pio(["run", "-e", "interpreter-64k"], small_project, timeout=3600)
    assert run.returncode != 0, run.stdout[-3000:]
    overflow = re.search(r"region `FLASH' overflowed by (\d+) bytes", run.stdout)
    assert overflow is not None, run.stdout[-3000:]
    linked = re.search(r"TFLite Micro \+ kernels for these ops: ([\d,]+) B of flash", run.stdout)
    print(
        f"\ninterpreter on {ENV}: FLASH overflowed by {int(overflow.group(1)):,} B"
        + (f" (TFLite Micro + kernels {linked.group(1)} B, as the probe linked)" if linked else "")
    )
