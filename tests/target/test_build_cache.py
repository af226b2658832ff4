"""The shared TFLM build cache: a second project with the same board, model, kernels and
toolchain links the first project's archive and compiles no TFLM object.

The first project is the configuration examples/sine-onnx and examples/seed-compat build too
(one FULLY_CONNECTED op, CMSIS-NN, mps2-an386, `pio run`): in a whole test run the archive is
compiled once, by whichever of them comes first, and linked by the others."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers.pio import run_pio
from helpers.targets import (
    REUSED,
    env_section,
    tflm_build_inputs,
    tflm_objects_compiled,
    write_project,
)

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]

MAIN = r"""
#include <stdio.h>
#include "tinyml/hello.h"
#include "tinyml/model.h"

tinyml::Model<tinyml::hello> model;

int main() {
  static const float x = 1.0f;
  if (!model.begin() || !model.set_input(&x) || !model.invoke()) {
    printf("FAILED %s\n", model.error());
    return 1;
  }
  printf("sin(1) ~ %.2f\n", model.output_float(0));
  return 0;
}
"""


def test_second_project_reuses_the_cached_tflm_build(tmp_path: Path, shared_models: Path) -> None:
    model = {"hello.tflite": shared_models / "tflm_hello_world/hello_world_int8.tflite"}
    options = {"custom_tinyml_kernels": "cmsis-nn"}
    outputs, keys = [], []
    for name in ("first", "second"):
        project = write_project(
            tmp_path / name, model, [env_section("m4", "mps2-an386", **options)]
        )
        (project / "src/main.cpp").write_text(MAIN)
        result = run_pio(["run", "-e", "m4", "-t", "exec"], project, timeout=1800)
        assert result.returncode == 0, result.stdout[-6000:]
        assert re.search(r"sin\(1\) ~ 0\.8\d", result.stdout), result.stdout[-3000:]
        outputs.append(result.stdout)
        keys.append(tflm_build_inputs(project / ".pio/build/m4")["key"])
    first, second = outputs
    assert tflm_objects_compiled(first) > 0 or REUSED.search(first), first[-6000:]
    assert tflm_objects_compiled(second) == 0, second[-6000:]
    match = REUSED.search(second)
    assert match, second[-6000:]
    assert keys[0] == keys[1] and match.group(1) == keys[1][:12], (keys, match.group(1))
    print(
        f"first project: {tflm_objects_compiled(first)} TFLM objects compiled; "
        f"second: 0, reused {match.group(1)}"
    )


def test_kernel_optimization_reaches_kernel_sources_only(
    tmp_path: Path, shared_models: Path
) -> None:
    """custom_tinyml_kernel_optimization: kernels and CMSIS-NN at -O3, the runtime at -Os
    (read from the cache key's inputs, written before anything compiles)."""
    model = {"hello.tflite": shared_models / "tflm_hello_world/hello_world_int8.tflite"}
    options = {"custom_tinyml_kernels": "cmsis-nn", "custom_tinyml_kernel_optimization": "-O3"}
    project = write_project(tmp_path, model, [env_section("m4", "mps2-an386", **options)])
    result = run_pio(["run", "-e", "m4", "-t", "tinyml-info"], project)
    assert result.returncode == 0, result.stdout[-4000:]
    inputs = tflm_build_inputs(project / ".pio/build/m4")
    assert inputs["kernel_opt"] == "-O3"
    opts = {obj: opt for obj, _path, opt in inputs["sources"]}
    assert set(opts.values()) == {"-Os", "-O3"}
    assert opts["tflm/tensorflow/lite/micro/micro_interpreter"] == "-Os"
    assert {opt for obj, opt in opts.items() if obj.endswith("/fully_connected")} == {"-O3"}
    assert {opt for obj, opt in opts.items() if obj.startswith("cmsis-nn/")} == {"-O3"}
