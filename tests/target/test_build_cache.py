"""The shared TFLM build cache: a second project with the same board, model, kernels and
toolchain links the first project's archive and compiles no TFLM object.

The first project is the configuration examples/sine-onnx and examples/seed-compat build too
(one FULLY_CONNECTED op, CMSIS-NN, mps2-an386, `pio run`): in a whole test run the archive is
compiled once, by whichever of them comes first, and linked by the others."""

from __future__ import annotations

import json
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


CPP_MAIN = r"""
#include "tinyml/hello.h"
#include "tinyml/model.h"

tinyml::Model<tinyml::hello> model;

int main() { return model.begin() ? 0 : 1; }
"""
# An env whose project flags would change every compile line of the old global-flag design:
# defines, an include folder, a newer C++ standard.
PROJECT_FLAGS = {
    "a": "-DBOARD_NAME_A=1 -DUSE_HAL_DRIVER -Iinclude/extra",
    "b": '-DBOARD_NAME_B=\\"b\\" -std=gnu++20',
}
TFLM_DEFINES = ("TF_LITE_STATIC_MEMORY", "CMSIS_NN")


def _compile_line(output: str, source: str) -> str:
    lines = [ln for ln in output.splitlines() if " -c " in ln and ln.rstrip().endswith(source)]
    assert len(lines) == 1, (source, output[-6000:])
    return lines[0]


def test_tflm_library_ignores_project_and_framework_settings(
    tmp_path: Path, shared_models: Path
) -> None:
    """Two envs of one core whose project flags differ build one TFLM library (the same cache
    key; the second reuses it). TFLM's settings reach the project's sources only: the
    platform's own startup file (built like a framework source) compiles without them, and
    the project's -std=gnu++20 is kept. The IDE data lists TFLM's include folder and defines."""
    model = {"hello.tflite": shared_models / "tflm_hello_world/hello_world_int8.tflite"}
    envs = [
        env_section(name, "mps2-an386", custom_tinyml_kernels="cmsis-nn", build_flags=flags)
        for name, flags in PROJECT_FLAGS.items()
    ]
    project = write_project(tmp_path, model, envs)
    (project / "include/extra").mkdir(parents=True)
    (project / "src/main.cpp").write_text(CPP_MAIN)
    outputs = {}
    for name in PROJECT_FLAGS:
        result = run_pio(["run", "-e", name, "-v"], project, timeout=1800)
        assert result.returncode == 0, result.stdout[-6000:]
        outputs[name] = result.stdout
    keys = {name: tflm_build_inputs(project / f".pio/build/{name}") for name in PROJECT_FLAGS}
    assert keys["a"]["key"] == keys["b"]["key"]
    tflm_compiles = [
        ln for ln in outputs["b"].splitlines() if "tinyml-tflm-" in ln and " -c " in ln
    ]
    assert not tflm_compiles and REUSED.search(outputs["b"]), outputs["b"][-6000:]
    library_flags = " ".join(value for _name, value in keys["a"]["flags"])
    assert "BOARD_NAME" not in library_flags and "USE_HAL_DRIVER" not in library_flags
    assert "include/extra" not in library_flags and "-mcpu=cortex-m4" in library_flags

    for out in outputs.values():
        startup = _compile_line(out, "startup.c")
        assert not any(f"-D{d}" in startup for d in TFLM_DEFINES), startup
        assert "tflite-micro" not in startup, startup
        main = _compile_line(out, "main.cpp")
        assert all(f"-D{d}" in main for d in TFLM_DEFINES), main
        assert "tflite-micro-" in main, main
    main_b = _compile_line(outputs["b"], "main.cpp")
    assert "-std=gnu++20" in main_b and "-std=gnu++17" not in main_b, main_b

    meta = run_pio(["project", "metadata", "-e", "a", "--json-output"], project)
    assert meta.returncode == 0, meta.stdout[-4000:]
    data = json.loads(meta.stdout[meta.stdout.index("{") :])["a"]
    includes = [p for group in data["includes"].values() for p in group]
    assert any(Path(p).name.startswith("tflite-micro-") for p in includes), includes
    assert any(p.endswith("tinyml-flatbuffers/include") for p in includes), includes
    assert {"TF_LITE_STATIC_MEMORY", "CMSIS_NN"} <= {d.split("=")[0] for d in data["defines"]}
    print(f"one TFLM library {keys['a']['key'][:12]} for envs a and b; IDE data complete")


def test_project_path_with_a_space(tmp_path: Path, shared_models: Path) -> None:
    """A project folder named with a space converts, builds, links and runs."""
    model = {"hello.tflite": shared_models / "tflm_hello_world/hello_world_int8.tflite"}
    project = write_project(
        tmp_path / "my tinyml project",
        model,
        [env_section("m4", "mps2-an386", custom_tinyml_kernels="cmsis-nn")],
    )
    (project / "src/main.cpp").write_text(MAIN)
    result = run_pio(["run", "-e", "m4", "-t", "exec"], project, timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:]
    assert re.search(r"sin\(1\) ~ 0\.8\d", result.stdout), result.stdout[-3000:]
    assert (project / ".pio/build/m4/firmware.map").is_file()


LOG_MAIN = r"""
#include <stdio.h>
#include "tinyml/hello.h"
#include "tinyml/model.h"

int main() {
  tinyml::log_line("log_line [%.3f] [%d] [%e]", 1.5, 42, -0.00025);
  printf("printf [%.3f]\n", 1.5);
  return 0;
}
"""


def test_log_line_prints_floats_without_float_printf(tmp_path: Path, shared_models: Path) -> None:
    """With newlib-nano linked without `-u _printf_float` (as Arduino STM32 links it), the C
    library's printf prints nothing for %.3f; log_line still prints the digits."""
    model = {"hello.tflite": shared_models / "tflm_hello_world/hello_world_int8.tflite"}
    options = {"custom_tinyml_kernels": "cmsis-nn", "board_build.printf_float": "no"}
    project = write_project(tmp_path, model, [env_section("m4", "mps2-an386", **options)])
    (project / "src/main.cpp").write_text(LOG_MAIN)
    result = run_pio(["run", "-e", "m4", "-t", "exec"], project, timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "printf []" in result.stdout, result.stdout[-3000:]  # the libc has no float printf
    assert "log_line [1.500] [42] [-2.500000e-04]" in result.stdout, result.stdout[-3000:]
