"""The examples as their users run them: build, run in QEMU, check what the firmware prints.

The runs need the converter environment (scripts/test makes it before the tests; they run
PlatformIO without network) and the pinned TFLM / CMSIS-NN sources in the local sources
directory. The real-board envs cannot build here (their platforms come from PlatformIO's
registry); their configuration is checked with PlatformIO's own ProjectConfig instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

import pytest
from helpers.pio import EXAMPLES_DIR, REPO_ROOT, copy_project, run_pio

from platformio_plugin.convert.environment import (
    COMPLETE_MARKER,
    ENV_PYTHON,
    converter_dir,
)
from platformio_plugin.options import parse_options

LOCAL_PLATFORMS = "symlink://../../platforms/"
PLUGIN = "symlink://../.."  # the repository root, as the examples list the plugin
EXAMPLES = ("mnist-pytorch", "person-detection-tflite", "sine-onnx")
# Real boards of mnist-pytorch: one per kernel path (Cortex-M4/M7 CMSIS-NN with DSP,
# Cortex-M0+ portable C, ESP32 reference kernels).
MNIST_BOARDS = {"nucleo_f446re", "nano33ble", "teensy41", "pico", "esp32dev"}


def _sources_root() -> Optional[Path]:
    roots = [Path(os.environ["PIO_TINYML_SOURCES"])] if os.environ.get("PIO_TINYML_SOURCES") else []
    roots.append(Path.home() / ".pio-tinyml" / "sources")
    return next((r for r in roots if any(r.glob("tflite-micro-*/tensorflow"))), None)


@pytest.fixture(scope="module")
def ready_to_run(pio_ready: None) -> None:
    """Skip with one reason when the TFLM sources or the converter environment are missing."""
    if _sources_root() is None:
        pytest.skip(
            "no TFLM sources: put the pinned tflite-micro-*/ tree (and the others listed in "
            "CONTRIBUTING.md) in ~/.pio-tinyml/sources or point PIO_TINYML_SOURCES at them"
        )
    python = os.environ.get(ENV_PYTHON)
    made = converter_dir(REPO_ROOT / ".pio-core") / COMPLETE_MARKER
    if not (Path(python).is_file() if python else made.is_file()):
        pytest.skip(
            "no converter environment: run `python -m platformio_plugin setup-converter` "
            "(scripts/test does) or set PIO_TINYML_CONVERTER_PYTHON"
        )


def _exec(example: str, tmp_path: Path) -> str:
    project = copy_project(example, tmp_path)
    # The copy is outside the repository: point `symlink://../..` (the plugin) back at it.
    ini = project / "platformio.ini"
    ini.write_text(ini.read_text().replace(f"= {PLUGIN}\n", f"= symlink://{REPO_ROOT}\n"))
    proc = run_pio(["run", "-e", "mps2-an386", "-t", "exec"], project)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


@pytest.mark.integration
@pytest.mark.tflm
@pytest.mark.usefixtures("ready_to_run")
def test_mnist_pytorch_classifies_the_held_out_digits(tmp_path: Path) -> None:
    out = _exec("mnist-pytorch", tmp_path)
    assert "models/digits_cnn.pth changed -> converting" in out
    assert "kernels: CMSIS-NN (cortex-m4, DSP)" in out
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
    assert f"accuracy: {correct}/20 = " in out


@pytest.mark.integration
@pytest.mark.tflm
@pytest.mark.usefixtures("ready_to_run")
def test_person_detection_scores_the_two_images(tmp_path: Path) -> None:
    out = _exec("person-detection-tflite", tmp_path)
    found = re.findall(r"^(\w+)\.bmp: person score (\d+) % \(int8 (-?\d+)\) -> (\w+)$", out, re.M)
    scores = {name: (int(percent), int(raw), label) for name, percent, raw, label in found}
    # The model is used as is (already int8), so the device must match TFLM's reference
    # interpreter on the host exactly: person 113 (94 %), no person -57 (28 %).
    assert scores == {"person": (94, 113, "person"), "no_person": (28, -57, "notperson")}, out


@pytest.mark.integration
@pytest.mark.tflm
@pytest.mark.usefixtures("ready_to_run")
def test_sine_onnx_follows_the_sine(tmp_path: Path) -> None:
    out = _exec("sine-onnx", tmp_path)
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


@pytest.mark.unit
@pytest.mark.parametrize("example", EXAMPLES)
def test_example_ini_is_valid_platformio_configuration(example: str) -> None:
    from platformio.project.config import ProjectConfig

    ini = EXAMPLES_DIR / example / "platformio.ini"
    config = ProjectConfig(str(ini), parse_extra=False)
    assert config.validate(silent=True)
    envs = config.envs()
    assert {"mps2-an386", "host"} <= set(envs)
    real = [
        env for env in envs if not config.get(f"env:{env}", "platform").startswith(LOCAL_PLATFORMS)
    ]
    assert real, f"{example} shows no real board"
    for env in envs:
        section = f"env:{env}"
        for option in ("platform", "board", "lib_deps"):
            assert config.get(section, option), f"[{section}] has no {option}"
        assert config.get(section, "lib_deps") == [PLUGIN]
        tinyml = {
            k: v
            for k, v in config.items(section, as_dict=True).items()
            if k.startswith("custom_tinyml_")
        }
        parse_options(tinyml, env)  # raises ConfigError on a typo or a bad value
        if env in real:
            assert not config.get(section, "platform").startswith("symlink://")
            assert config.get(section, "framework") == ["arduino"], section
    if example == "mnist-pytorch":
        assert set(real) == MNIST_BOARDS
