"""Helpers for the TFLM build tests: model files in the generated-header contract, an SConstruct
that builds TFLM with ``add_tflm_library`` and links a test program.

With ``core_dir`` the SConstruct sets ``PROJECT_CORE_DIR`` as PlatformIO does, so that the
product's shared TFLM archive cache (``<core_dir>/tinyml/tflm-lib``) is used: a second program
built with the same compiler, flags, kernels and ops links the first one's archive."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
HELLO_WORLD = "tensorflow/lite/micro/examples/hello_world/models/hello_world_int8.tflite"
HELLO_SCALE_IN, HELLO_ZP_IN = 0.024480115622282028, -128
HELLO_SCALE_OUT, HELLO_ZP_OUT = 0.008290956728160381, 5


def model_header(
    name: str,
    *,
    arena: int,
    model_size: int,
    ops: Sequence[str],
    in_dims: Sequence[int],
    in_q: tuple[float, int],
    out_dims: Sequence[int],
    out_q: tuple[float, int],
    golden_inputs: Sequence[Sequence[int]] = (),
    golden_expected: Sequence[Sequence[int]] = (),
) -> str:
    from platformio_plugin.tflm import op_table

    def dims(values: Sequence[int]) -> str:
        return ", ".join(str(v) for v in values)

    def rows(values: Sequence[Sequence[int]]) -> str:
        return ", ".join("{" + dims(r) + "}" for r in values)

    calls = "\n".join(
        f"    if (r.{op_table.BUILTIN_OPS[op].resolver_call(True)} != kTfLiteOk) {{\n"
        "      return kTfLiteError;\n    }"
        for op in ops
    )
    n_in, n_out = math.prod(in_dims), math.prod(out_dims)
    golden = ""
    if golden_inputs:
        golden = f"""
struct {name}_golden {{
  using Model = {name};
  static constexpr int kCount = {len(golden_inputs)};
  static constexpr int8_t kInputs[kCount][{name}::kInputElements] = {{{rows(golden_inputs)}}};
  static constexpr int8_t kExpected[kCount][{name}::kOutputElements] = {{{rows(golden_expected)}}};
}};
"""
    return f"""#pragma once
#include <stddef.h>
#include <stdint.h>
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/kernels/conv.h"
#include "tensorflow/lite/micro/kernels/depthwise_conv.h"
#include "tensorflow/lite/micro/kernels/fully_connected.h"
#include "tensorflow/lite/micro/kernels/pooling.h"
#include "tensorflow/lite/micro/kernels/softmax.h"
namespace tinyml {{
struct {name} {{
  static constexpr const char* kName = "{name}";
  static constexpr size_t kArenaSize = {arena};
  static constexpr size_t kModelSize = {model_size};
  static const unsigned char kModelData[];
  static constexpr int kInputRank = {len(in_dims)};
  static constexpr int kInputDims[{len(in_dims)}] = {{{dims(in_dims)}}};
  static constexpr size_t kInputElements = {n_in};
  static constexpr TfLiteType kInputType = kTfLiteInt8;
  static constexpr float kInputScale = {in_q[0]!r}f;
  static constexpr int32_t kInputZeroPoint = {in_q[1]};
  static constexpr const char* kInputLayout = "NHWC";
  static constexpr int kOutputRank = {len(out_dims)};
  static constexpr int kOutputDims[{len(out_dims)}] = {{{dims(out_dims)}}};
  static constexpr size_t kOutputElements = {n_out};
  static constexpr TfLiteType kOutputType = kTfLiteInt8;
  static constexpr float kOutputScale = {out_q[0]!r}f;
  static constexpr int32_t kOutputZeroPoint = {out_q[1]};
  static constexpr int kLabelCount = 0;
  static const char* const* kLabels() {{ return nullptr; }}
  static constexpr int kOpCount = {len(ops)};
  using OpResolver = tflite::MicroMutableOpResolver<kOpCount>;
  static TfLiteStatus RegisterOps(OpResolver& r) {{
{calls}
    return kTfLiteOk;
  }}
}};
{golden}}}  // namespace tinyml
"""


def model_data_cc(name: str, data: bytes) -> str:
    body = ",".join(str(b) for b in data)
    return (
        f'#include "tinyml/{name}.h"\n'
        "namespace tinyml {\n"
        f"alignas(16) const unsigned char {name}::kModelData[] = {{{body}}};\n"
        "}\n"
    )


SCONSTRUCT = """
import os, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from platformio_plugin.scons.tflm_build import add_tflm_library
from platformio_plugin.tflm.cpu import choose_kernels
env = Environment(ENV=os.environ, CC={cc!r}, CXX={cxx!r}, AR={ar!r}, RANLIB={ranlib!r},
                  CCFLAGS={ccflags!r}, LINKFLAGS={linkflags!r}, BUILD_DIR={build!r})
choice = choose_kernels(board="native", cpu={cpu!r}, option={kernels!r})
{core_dir}add_tflm_library(env, ops={ops!r}, choice=choice, option_dir={root!r}, log=print)
env.Append(CPPPATH=[{gen!r}, {src!r}])
env.Append(LIBS={libs!r})
objs = [env.Object(target=os.path.join({build!r}, "app", Path(s).stem), source=s)
        for s in {app_sources!r}]
env.Program(os.path.join({build!r}, "app.elf"), objs)
"""


def write_sconstruct(
    work: Path,
    *,
    sources_root: Path,
    ops: Sequence[str],
    kernels: str,
    app_sources: Sequence[Path],
    cc: str = "gcc",
    cxx: str = "g++",
    ar: str = "ar",
    ranlib: str = "ranlib",
    ccflags: Sequence[str] = ("-Os", "-Wall"),
    linkflags: Sequence[str] = (),
    libs: Sequence[str] = ("m",),
    cpu: str = "",
    core_dir: Optional[Path] = None,
) -> Path:
    build = work / "build"
    path = work / "SConstruct"
    path.write_text(
        SCONSTRUCT.format(
            repo=str(REPO),
            cc=cc,
            cxx=cxx,
            ar=ar,
            ranlib=ranlib,
            ccflags=list(ccflags),
            linkflags=list(linkflags),
            build=str(build),
            ops=list(ops),
            kernels=kernels,
            root=str(sources_root),
            gen=str(work / "gen"),
            src=str(REPO / "src"),
            app_sources=[str(s) for s in app_sources],
            libs=list(libs),
            cpu=cpu,
            core_dir=f"env['PROJECT_CORE_DIR'] = {str(core_dir)!r}\n" if core_dir else "",
        )  # fmt: skip
    )
    return build


def scons(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "SCons", "-Q", "-j2", *args],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=1800,
    )
