"""The build's probe on the emulated cores: what it refuses, and what a build after it reuses.

A user's arena (custom_tinyml_arena_size) that is too small for the model fails the build with
one error that names the model, the env and what TFLite Micro printed on the emulated core,
before anything is flashed; a build with nothing changed runs no probe. Needs the TFLM sources.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.pio import run_pio
from helpers.targets import env_section, write_project

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]

HELLO = "tflm_hello_world/hello_world_int8.tflite"


@pytest.fixture(scope="module")
def hello_project(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> Path:
    root = tmp_path_factory.mktemp("probe")
    envs = [
        env_section("m4", "mps2-an386"),
        env_section("m4_small", "mps2-an386", custom_tinyml_arena_size="256"),
        env_section("m7_double", "mps2-an500"),  # -mfpu=fpv5-d16
    ]
    main = (
        '#include "tinyml/hello_world_int8.h"\n#include "tinyml/model.h"\n'
        "tinyml::Model<tinyml::hello_world_int8> model;\n"
        "int main() { return model.begin() ? 0 : 1; }\n"
    )
    project = write_project(root, {"hello_world_int8.tflite": shared_models / HELLO}, envs)
    (project / "src/main.cpp").write_text(main)
    return project


def test_forced_arena_too_small_fails_the_build_naming_model_and_env(hello_project: Path) -> None:
    result = run_pio(["run", "-e", "m4_small"], hello_project, timeout=1800)
    out = result.stdout
    assert result.returncode != 0, out[-4000:]
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out[-4000:]
    assert errors[0].startswith(
        "Error: models/hello_world_int8.tflite does not run on the emulated cortex-m4 "
        "(env m4_small)"
    ), errors
    assert "custom_tinyml_arena_size = 256 B: AllocateTensors failed" in errors[0], errors
    assert "TFLite Micro printed:" in out, out[-4000:]
    assert "Raise custom_tinyml_arena_size" in out, out[-4000:]
    assert not (hello_project / ".pio/build/m4_small/firmware.elf").exists()


def test_measured_build_runs_and_a_second_build_runs_no_probe(hello_project: Path) -> None:
    first = run_pio(["run", "-e", "m4", "-t", "exec"], hello_project, timeout=1800)
    assert first.returncode == 0, first.stdout[-4000:]
    assert "hello_world_int8: arena " in first.stdout, first.stdout[-4000:]
    assert "measured on the emulated cortex-m4" in first.stdout
    header = hello_project / ".pio/build/m4/tinyml/tinyml/hello_world_int8_arena.h"
    assert "Measured by the build on the emulated cortex-m4" in header.read_text()
    second = run_pio(["run", "-e", "m4"], hello_project, timeout=600)
    assert second.returncode == 0, second.stdout[-4000:]
    assert "TinyML: models up to date" in second.stdout
    assert "probe:" not in second.stdout, second.stdout[-3000:]
    assert "Linking" not in second.stdout, second.stdout[-3000:]


def test_double_precision_fpu_falls_back_to_the_estimate_and_says_why(
    hello_project: Path,
) -> None:
    """Unicorn's Cortex-M cores execute no double-precision FPU code: on a Cortex-M7 with
    fpv5-d16 the build runs no probe and says so, and the firmware still builds and runs."""
    result = run_pio(["run", "-e", "m7_double", "-t", "exec"], hello_project, timeout=1800)
    out = result.stdout
    assert result.returncode == 0, out[-4000:]
    assert (
        "Warning! TinyML: kArenaSize is an estimate (the build's emulator has no "
        "double-precision FPU (-mfpu=fpv5-d16))" in out
    ), out[-4000:]
    assert "probe:" not in out
    header = hello_project / ".pio/build/m7_double/tinyml/tinyml/hello_world_int8_arena.h"
    assert "Estimated: TFLM's interpreter on the host" in header.read_text()


FLIP_WEIGHTS = """\
import sys
import numpy as np
import tensorflow as tf

path = sys.argv[1]
interpreter = tf.lite.Interpreter(model_path=path)
data = bytearray(open(path, "rb").read())
for detail in interpreter.get_tensor_details():
    if list(detail["shape"]) == [16, 16] and detail["dtype"] == np.int8:
        weights = interpreter.get_tensor(detail["index"]).tobytes()
        at = data.find(weights)
        assert at > 0 and data.find(weights, at + 1) < 0
        data[at : at + len(weights)] = bytes((255 - b) for b in weights)  # every weight negated
        open(path, "wb").write(bytes(data))
        print("flipped", at)
        break
else:
    raise SystemExit("no 16x16 int8 weights")
"""


def test_a_corrupted_model_constant_fails_the_build_naming_the_op(
    hello_project: Path, converter_python: Path
) -> None:
    """The firmware's model differs from the one TFLM's interpreter checked on the host (every
    weight of the middle layer negated in the cached int8 model): the probe's outputs differ
    from the golden vectors and the build stops, naming the op the output comes from."""
    (cached,) = (hello_project / ".pio/tinyml-cache").glob("*/model_int8.tflite")
    flipped = subprocess.run(
        [str(converter_python), "-c", FLIP_WEIGHTS, str(cached)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert flipped.returncode == 0, flipped.stdout + flipped.stderr
    result = run_pio(["run", "-e", "m4"], hello_project, timeout=1800)
    out = result.stdout
    assert result.returncode != 0, out[-4000:]
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out[-4000:]
    assert "does not run on the emulated cortex-m4 (env m4)" in errors[0], errors
    assert "golden vector 0 differs from TFLM's interpreter on the host" in errors[0], errors
    assert "the output comes from op #2 FULLY_CONNECTED" in errors[0], errors
