"""tinyml::Model when it cannot start, on the emulated Cortex-M4 (mps2-an386): begin() fails
every time it is called, and every later call answers its error value without touching the
interpreter, so the firmware still runs to its end and exits 0 (a fault or lockup would fail
the `exec` target).

One project, one main, one env per arena (custom_tinyml_arena_size):
- too_small: TFLM's allocator fits, the model's tensors do not (AllocateTensors fails);
- tiny: not even TFLM's allocator fits (begin() refuses before building the interpreter,
  whose constructor would write through a null pointer);
- fits: the measured arena; the same calls succeed, and a failed call before begin() leaves
  no error behind once begin() succeeded.
The build's probe refuses an arena the model does not run with, so the two small arenas are
built with `custom_tinyml_probe = no` (as for a board the probe does not cover).
The envs share one TFLM build (same board, kernels and ops; the shared TFLM build cache),
also with test_build_cache's projects. Needs the TFLM/CMSIS-NN sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest
from helpers.pio import run_pio
from helpers.targets import REUSED, env_section, tflm_objects_compiled, write_project

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]

MAIN = r"""
#include <stdint.h>

#include "tinyml/hello.h"
#include "tinyml/model.h"

using tinyml::log_line;

tinyml::Model<tinyml::hello> model;

static const char* answer(bool ok) { return ok ? "true" : "false"; }
static const char* pointer(const void* p) { return p != nullptr ? "set" : "nullptr"; }

static void call(const char* name, bool ok) {
  log_line("RT %s %s | %s", name, answer(ok), model.error());
}

int main() {
  call("invoke_before_begin", model.invoke());
  call("begin#1", model.begin());
  call("begin#2", model.begin());
  log_line("RT ready %s", answer(model.ready()));
  log_line("RT arena_used_after_begin %u", static_cast<unsigned>(model.arena_used_bytes()));
  static const int8_t zeros[tinyml::hello::kInputElements] = {};
  call("set_input_int8", model.set_input_int8(zeros));
  static const float one = 1.0f;
  call("set_input", model.set_input(&one));
  call("invoke", model.invoke());
  log_line("RT input<int8_t> %s", pointer(model.input<int8_t>()));
  log_line("RT output<int8_t> %s", pointer(model.output<int8_t>()));
  log_line("RT input_tensor %s", pointer(model.input_tensor()));
  log_line("RT output_tensor %s", pointer(model.output_tensor()));
  log_line("RT interpreter %s", pointer(model.interpreter()));
  log_line("RT output_float(0) %f", model.output_float(0));
  log_line("RT argmax %d", model.argmax());
  call("reset", model.reset());
  log_line("RT arena_used_at_end %u of %u", static_cast<unsigned>(model.arena_used_bytes()),
           static_cast<unsigned>(tinyml::hello::kArenaSize));
  log_line("RT done");
  return 0;
}
"""

# env -> custom_tinyml_arena_size (None: the measured arena)
ENVS: dict[str, Optional[str]] = {"too_small": "256", "tiny": "16", "fits": None}
NOT_CALLED = "begin() was not called"
ALLOCATE = "AllocateTensors failed: the arena (kArenaSize) is too small"
ALLOCATOR = "the arena (kArenaSize) is too small to hold even TFLite Micro's allocator"
LINE = re.compile(r"^RT (\S+) ?(.*)$", re.MULTILINE)
NOT_STARTED_CALLS = ("invoke", "set_input_int8", "set_input", "reset")
POINTERS = ("input<int8_t>", "output<int8_t>", "input_tensor", "output_tensor", "interpreter")


@dataclass(frozen=True)
class Run:
    env: str
    returncode: int
    out: str
    lines: dict[str, str]  # "RT <name> <rest>" -> {name: rest}

    def call(self, name: str) -> tuple[str, str]:
        """(answer, error()) of a `call(name, ...)` line."""
        answer, _, error = self.lines[name].partition(" | ")
        return answer, error.strip()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> Path:
    model = {"hello.tflite": shared_models / "tflm_hello_world/hello_world_int8.tflite"}
    envs = []
    for env, arena in ENVS.items():
        options = {"custom_tinyml_kernels": "cmsis-nn"}
        if arena is not None:
            options.update(custom_tinyml_arena_size=arena, custom_tinyml_probe="no")
        envs.append(env_section(env, "mps2-an386", **options))
    root = write_project(tmp_path_factory.mktemp("runtime-failures"), model, envs)
    (root / "src/main.cpp").write_text(MAIN)
    return root


@pytest.fixture(scope="module")
def runs(project: Path) -> Callable[[str], Run]:
    """`pio run -t exec` of an env (build, then the firmware in QEMU), once per env."""
    done: dict[str, Run] = {}

    def get(env: str) -> Run:
        if env not in done:
            result = run_pio(["run", "-e", env, "-t", "exec"], project, timeout=1800)
            out = result.stdout
            reused = REUSED.search(out)
            print(
                f"\n{env}: {tflm_objects_compiled(out)} TFLM objects compiled"
                f"{f', cached build {reused.group(1)} reused' if reused else ''}"
            )
            lines = {m.group(1): m.group(2) for m in LINE.finditer(out)}
            done[env] = Run(env, result.returncode, out, lines)
        return done[env]

    return get


@pytest.mark.parametrize("env", list(ENVS))
def test_firmware_runs_to_its_end_and_exits_0(runs: Callable[[str], Run], env: str) -> None:
    run = runs(env)
    assert run.returncode == 0, run.out[-6000:]
    assert "done" in run.lines, run.out[-4000:]
    assert "*** " not in run.out, run.out[-4000:]  # the startup code's fault report


@pytest.mark.parametrize("env", [env for env, arena in ENVS.items() if arena is not None])
def test_a_model_that_cannot_start(runs: Callable[[str], Run], env: str) -> None:
    run = runs(env)
    reason = ALLOCATE if env == "too_small" else ALLOCATOR
    assert run.call("invoke_before_begin") == ("false", NOT_CALLED), run.out[-4000:]
    for name in ("begin#1", "begin#2"):
        answer, error = run.call(name)
        assert answer == "false" and error.startswith(reason), (name, run.out[-4000:])
    assert run.lines["ready"] == "false"
    for name in NOT_STARTED_CALLS:
        answer, error = run.call(name)
        assert answer == "false" and error.startswith(reason), (name, run.out[-4000:])
    for name in POINTERS:
        assert run.lines[name] == "nullptr", (name, run.out[-4000:])
    assert run.lines["output_float(0)"] == "nan"
    assert run.lines["argmax"] == "-1"
    assert run.lines["arena_used_after_begin"] == "0"
    assert run.lines["arena_used_at_end"].startswith("0 of ")


def test_a_model_that_starts(runs: Callable[[str], Run]) -> None:
    """The same calls with the measured arena: they succeed, and the failed call before
    begin() leaves no error behind."""
    run = runs("fits")
    assert run.call("invoke_before_begin") == ("false", NOT_CALLED), run.out[-4000:]
    for name in ("begin#1", "begin#2", *NOT_STARTED_CALLS):
        assert run.call(name) == ("true", ""), (name, run.out[-4000:])
    assert run.lines["ready"] == "true"
    for name in POINTERS:
        assert run.lines[name] == "set", (name, run.out[-4000:])
    assert re.fullmatch(r"0\.8\d+", run.lines["output_float(0)"]), run.out[-4000:]  # sin(1)
    assert run.lines["argmax"] == "0"
    used = int(run.lines["arena_used_after_begin"])
    end = re.fullmatch(r"(\d+) of (\d+)", run.lines["arena_used_at_end"])
    assert end, run.out[-4000:]
    assert 0 < used <= int(end.group(2)), run.out[-4000:]
    assert int(end.group(1)) == used, run.out[-4000:]  # invoke() and reset() keep the plan
