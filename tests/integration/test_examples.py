"""The examples as their users run them: build, run in QEMU, check what the firmware prints.

The runs need the converter environment (scripts/test makes it before the tests; they run
PlatformIO without network) and the pinned TFLM / CMSIS-NN sources in the local sources
directory. The real-board envs cannot build here (their platforms come from PlatformIO's
registry): tests/unit/test_example_configs.py checks their configuration.

Each run copies the example and builds it as its users do, with the shared TFLM build cache of
the core dir: a build may compile TFLM or take the archive a previous run (the demo, another
test) stored there, so the kernel choice is read from what the build records in both cases.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from helpers.pio import EXAMPLES_DIR, REPO_ROOT, copy_project, run_pio
from helpers.targets import assert_runtime_flash_as_linked, tflm_build_inputs

from platformio_plugin.convert.environment import (
    COMPLETE_MARKER,
    ENV_PYTHON,
    converter_dir,
)

pytestmark = pytest.mark.integration

PLUGIN = "symlink://../.."  # the repository root, as the examples list the plugin
ENV = "mps2-an386"


@pytest.fixture(scope="module")
def ready_to_run(pio_ready: None, sources_root: Path) -> None:
    """Skip with one reason when the TFLM sources or the converter environment are missing."""
    python = os.environ.get(ENV_PYTHON)
    made = converter_dir(REPO_ROOT / ".pio-core") / COMPLETE_MARKER
    if not (Path(python).is_file() if python else made.is_file()):
        pytest.skip(
            "no converter environment: run `python -m platformio_plugin setup-converter` "
            "(scripts/test does) or set PIO_TINYML_CONVERTER_PYTHON"
        )


def _exec(example: str, tmp_path: Path) -> tuple[Path, str]:
    """Copy the example, build and run its mps2-an386 env; (the copy, the output)."""
    project = copy_project(example, tmp_path)
    # The copy is outside the repository: point `symlink://../..` (the plugin) back at it.
    ini = project / "platformio.ini"
    ini.write_text(ini.read_text().replace(f"= {PLUGIN}\n", f"= symlink://{REPO_ROOT}\n"))
    proc = run_pio(["run", "-e", ENV, "-t", "exec"], project)
    assert proc.returncode == 0, proc.stdout
    assert_runtime_flash_as_linked(project / ".pio/build" / ENV)
    return project, proc.stdout


@pytest.mark.usefixtures("ready_to_run")
def test_mnist_pytorch_classifies_the_held_out_digits(tmp_path: Path) -> None:
    project, out = _exec("mnist-pytorch", tmp_path)
    assert "models/digits_cnn.pth changed -> converting" in out
    # CMSIS-NN with the Cortex-M4's DSP instructions. The build prints its kernel choice
    # (`kernels: CMSIS-NN (cortex-m4, DSP)`) only when it compiles TFLM; the inputs of its TFLM
    # archive are recorded in both cases.
    inputs = tflm_build_inputs(project / ".pio/build" / ENV)
    assert inputs["kernels"] == "cmsis-nn", inputs["kernels"]
    assert any("-mcpu=cortex-m4" in value.split() for _name, value in inputs["flags"]), inputs

    assert any(obj.startswith("cmsis-nn/") for obj, _path, _opt in inputs["sources"])
    assert "without DSP/SIMD" not in out
    results = [
        (int(p), int(t))
        for p, t in re.findall(r"^sample \d+: predicted (\d) \(true (\d)\)$", out, re.M)
    ]
    shipped = (EXAMPLES_DIR / "mnist-pytorch/src/samples.h").read_text().count("    {")
    assert len(results) == shipped == 20, out
    correct = sum(p == t for p, t in results)
    # The float model scores 92 % on the 397 held-out digits and int8 agrees with it on all of
    # them; these 20 are all right in float. 18/20 leaves room for a different quantizer
    # rounding, while a broken input layout, scale or zero point lands near chance (10 %).
    assert correct >= 18, out
    assert f"accuracy: {correct}/20 = {correct * 5:.1f} %" in out  # log_line's %.1f


@pytest.mark.usefixtures("ready_to_run")
def test_person_detection_scores_the_two_images(tmp_path: Path) -> None:
    _project, out = _exec("person-detection-tflite", tmp_path)
    found = re.findall(r"^(\w+)\.bmp: person score (\d+) % \(int8 (-?\d+)\) -> (\w+)$", out, re.M)
    scores = {name: (int(percent), int(raw), label) for name, percent, raw, label in found}
    # The model is used as is (already int8), so the device must match TFLM's reference
    # interpreter on the host exactly: person 113 (94 %), no person -57 (28 %).
    assert scores == {"person": (94, 113, "person"), "no_person": (28, -57, "notperson")}, out


@pytest.mark.usefixtures("ready_to_run")
def test_sine_onnx_follows_the_sine(tmp_path: Path) -> None:
    _project, out = _exec("sine-onnx", tmp_path)
    assert "models/sine.onnx changed -> converting" in out
    assert "ONNX -> TensorFlow (onnx2tf)" in out
    points = [
        (float(x), float(y), float(exact))
        for x, y, exact in re.findall(
            r"^sin\(([\d.]+)\) ~ ([+-][\d.]+) \(exact ([+-][\d.]+)\)$", out, re.M
        )
    ]
    assert len(points) == 13, out
    # The float model itself is within ~0.1 of sin(x); int8 must not add more than a few
    # hundredths, over the whole period (a calibration that missed part of [0, 2 pi]
    # saturates the input there: the error then reaches ~0.9).
    assert max(abs(y - exact) for _, y, exact in points) < 0.15, out
    assert re.search(r"^max \|error\| 0\.\d+, arena used \d+ of \d+ bytes$", out, re.M)
