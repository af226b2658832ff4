"""PyTorch's int8 MobileNetV2 (224x224x3, 3.9 MB of constants, a 2.4 MB arena) ahead of time on
the emulated Cortex-M0+, Cortex-M4 and Cortex-M7 with CMSIS-NN: its golden vector (TFLM's
interpreter on the host) comes out bit-exact on each core.

The largest shared model, run alone: the interpreter's firmware does not fit these 4 MB boards
(flatbuffer, arena and golden vector together), and the comparison suite of
test_aot_on_target.py would hold two arenas. One golden vector keeps the firmware in the flash.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers.pio import run_pio
from helpers.targets import env_section, firmware_size, write_project

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]

MODEL = "mobilenet_v2_quantized_1x3x224x224"
SOURCE = f"tflm_pytorch_mobilenetv2/{MODEL}.tflite"
ENVS = {"m0plus_aot": "mps2-m0plus", "m4_aot": "mps2-an386", "m7_aot": "mps2-an500"}
SUITE_MAIN = """\
#include "tinyml/golden_suite.h"

int main() {
  tinyml::run_all_golden();
  return 0;
}
"""
ARENA = re.compile(rf"ARENA {MODEL} used (\d+) of (\d+)")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> Path:
    envs = [
        env_section(
            env,
            board,
            custom_tinyml_runtime="aot",
            custom_tinyml_kernels="cmsis-nn",
            custom_tinyml_golden_vectors="1",
            custom_tinyml_probe="no",  # QEMU runs the golden vector here; the probe would again
        )
        for env, board in ENVS.items()
    ]
    models = {f"{MODEL}.tflite": shared_models / SOURCE}
    return write_project(tmp_path_factory.mktemp("mobilenet"), models, envs, SUITE_MAIN)


@pytest.mark.parametrize("env", list(ENVS))
def test_mobilenet_v2_golden_vector_bit_exact(project: Path, env: str) -> None:
    run = run_pio(["test", "-e", env, "-f", "test_golden", "-v"], project, timeout=3600)
    assert run.returncode == 0, run.stdout[-6000:]
    assert f"PASS {MODEL}" in run.stdout, run.stdout[-6000:]
    used = ARENA.search(run.stdout)
    assert used is not None, run.stdout[-4000:]
    size = firmware_size(project / ".pio/build" / env / "firmware.elf")
    print(f"{env}: arena {used[1]} of {used[2]} B, firmware {size}")
