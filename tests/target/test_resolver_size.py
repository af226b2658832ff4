"""Firmware size of the generated resolver against one that registers every op TFLM has.

Both firmwares run the same model (MLPerf Tiny KWS, int8) with CMSIS-NN on the emulated
Cortex-M4 and link the same TFLM archive, built once for every builtin op (a test-only
post-script calls ``add_tflm_library`` with the whole op table; the second env links the
first's archive from the shared build cache). The linker's --gc-sections drops what no
registration reaches, so the ratio of the two .text sizes is what the generated
resolver's exact op list (with CMSIS-NN's int8-only registrations) saves.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.pio import REPO_ROOT, run_pio
from helpers.targets import env_section, firmware_size, write_project

from platformio_plugin.tflm.op_table import BUILTIN_OPS

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]

MODEL = "kws_ref_model_int8"
MAX_RATIO = 0.55

MAIN = r"""
#include <stdarg.h>
#include <stdio.h>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tinyml/kws_ref_model_int8.h"
#ifdef TINYML_ALL_OPS
#include "all_ops.h"
#endif

using M = tinyml::kws_ref_model_int8;

// runtime = none leaves the library's DebugLog out: TFLM's log goes to stdout here.
extern "C" int DebugVsnprintf(char* buffer, size_t size, const char* format, va_list args) {
  return vsnprintf(buffer, size, format, args);
}
extern "C" void DebugLog(const char* format, va_list args) { vprintf(format, args); }

alignas(16) static uint8_t arena[M::kArenaSize];

int main() {
  const tflite::Model* model = tflite::GetModel(M::kModelData);
#ifdef TINYML_ALL_OPS
  static AllOpsResolver resolver;
  if (register_all_ops(resolver) != kTfLiteOk) return 1;
#else
  static M::OpResolver resolver;
  if (M::RegisterOps(resolver) != kTfLiteOk) return 1;
#endif
  tflite::MicroInterpreter interpreter(model, resolver, arena, sizeof(arena));
  if (interpreter.AllocateTensors() != kTfLiteOk) return 2;
  if (interpreter.Invoke() != kTfLiteOk) return 3;
  printf("INVOKED output[0] = %d\n", interpreter.output(0)->data.int8[0]);
  return 0;
}
"""

POST_SCRIPT = f"""
# Test only: TFLM with every builtin op, linked instead of the hook's (runtime = none).
import sys

Import("env", "projenv")
sys.path.insert(0, {str(REPO_ROOT)!r})
from platformio_plugin.scons.tflm_build import add_tflm_library
from platformio_plugin.tflm.cpu import choose_kernels
from platformio_plugin.tflm.op_table import BUILTIN_OPS

before = list(env.get("LIBS", []))
board = env.BoardConfig()
choice = choose_kernels(
    board=env.subst("$BOARD"), cpu=board.get("build.cpu", ""), option="cmsis-nn"
)
add_tflm_library(env, ops=sorted(BUILTIN_OPS), choice=choice, project_envs=[projenv])
# the archive goes before the platform's libc/libstdc++ on the link line
env.Replace(LIBS=[*env["LIBS"][len(before):], *before])
"""


def all_ops_header() -> str:
    lines = [
        "#pragma once",
        '#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"',
        f"using AllOpsResolver = tflite::MicroMutableOpResolver<{len(BUILTIN_OPS)}>;",
        "inline TfLiteStatus register_all_ops(AllOpsResolver& r) {",
    ]
    lines += [
        f"  if (r.{op.method}() != kTfLiteOk) return kTfLiteError;" for op in BUILTIN_OPS.values()
    ]
    lines += ["  return kTfLiteOk;", "}", ""]
    return "\n".join(lines)


def test_generated_resolver_text_against_every_op(tmp_path: Path, shared_models: Path) -> None:
    common = {
        "custom_tinyml_runtime": "none",
        "custom_tinyml_kernels": "cmsis-nn",
        "extra_scripts": "post:all_ops_tflm.py",
    }
    project = write_project(
        tmp_path,
        {f"{MODEL}.tflite": shared_models / "mlperf_kws_dscnn/kws_ref_model_int8.tflite"},
        [
            env_section("generated", "mps2-an386", **common),
            env_section("all_ops", "mps2-an386", build_src_flags="-DTINYML_ALL_OPS", **common),
        ],
    )
    (project / "src/main.cpp").write_text(MAIN)
    (project / "src/all_ops.h").write_text(all_ops_header())
    (project / "all_ops_tflm.py").write_text(POST_SCRIPT)
    sizes = {}
    for env in ("all_ops", "generated"):
        result = run_pio(["run", "-e", env, "-t", "exec"], project, timeout=3600)
        assert result.returncode == 0, result.stdout[-6000:]
        assert "INVOKED output[0]" in result.stdout, result.stdout[-3000:]
        sizes[env] = firmware_size(project / ".pio/build" / env / "firmware.elf")
    ratio = sizes["generated"]["text"] / sizes["all_ops"]["text"]
    print(
        f"\n.text with the generated resolver: {sizes['generated']['text']} B; "
        f"with all {len(BUILTIN_OPS)} builtin ops: {sizes['all_ops']['text']} B; "
        f"ratio {ratio:.3f} (goal <= {MAX_RATIO})"
    )
    assert ratio <= MAX_RATIO
