"""Benchmark 3: the first TFLite Micro build for the emulated Cortex-M4.

A: the plugin, whole process: `pio run -e mps2-an386` on a copy of examples/mnist-pytorch with an
   empty build folder (the model's conversion cache is kept: this times compiling, not
   converting) in a private core dir with no cross-project cache. Objects: every .o of the
   build, and those of the TFLM library.
B: TFLite Micro's whole library tree compiled with the same compiler, flags and parallelism
   (2 jobs): every non-test .cc/.c under tensorflow/ (without the other targets' and other
   vendors' kernel folders, the examples, tools and Python), CMSIS-NN's kernel replacing a
   reference kernel of the same name, plus every CMSIS-NN source. The list is globbed from the
   sources directory at run time. Files that do not compile for the target are counted, not
   fatal. B only compiles (no archive, no link), which favours B.
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from . import common
from .common import Context, must

ENV = "mps2-an386"
JOBS = 2
NOT_LIBRARY = {
    # other targets' platform files and other vendors' kernels
    "arc_custom",
    "arc_emsdp",
    "bluepill",
    "ceva",
    "chre",
    "cortex_m_corstone_300",
    "cortex_m_generic",
    "hexagon",
    "riscv32_generic",
    "arc_mli",
    "ethos_u",
    "xtensa",
    # not library code
    "benchmarks",
    "docs",
    "examples",
    "integration_tests",
    "models",
    "python",
    "testing",
    "tools",
    "test_data_generation",
    "testdata",
}


def _is_test(name: str) -> bool:
    stem = name.rsplit(".", 1)[0]
    return stem.endswith("_test") or "_test_" in stem


def whole_tree(trees: Any) -> list[tuple[Path, str]]:
    """(source, -O level) of the whole library tree."""
    root = trees.tflm / "tensorflow"
    kernels = root / "lite" / "micro" / "kernels"
    files: list[tuple[Path, str]] = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".cc", ".c") or not path.is_file() or _is_test(path.name):
            continue
        rel = path.relative_to(root).parts
        if NOT_LIBRARY.intersection(rel[:-1]):
            continue
        if path.parent == kernels and (kernels / "cmsis_nn" / path.name).is_file():
            continue  # CMSIS-NN's kernel replaces the reference one
        files.append((path, "-O2" if kernels in path.parents else "-Os"))
    for path in sorted((trees.cmsis_nn / "Source").rglob("*.c")):
        files.append((path, "-O2"))
    return files


def board_flags() -> list[str]:
    board = json.loads(
        (common.REPO / "platforms" / "emulated-cortex-m" / "boards" / f"{ENV}.json").read_text()
    )["build"]
    flags = [f"-mcpu={board['cpu']}", "-mthumb"]
    if board.get("fpu"):
        flags += [f"-mfloat-abi={board.get('float_abi', 'hard')}", f"-mfpu={board['fpu']}"]
    return flags + ["-ffunction-sections", "-fdata-sections", "-Wall"]


def compile_tree(out: Path, limit: int | None, sample: int = 1) -> dict[str, Any]:
    from platformio_plugin.tflm import flatbuffers_patch
    from platformio_plugin.tflm import selection as sel
    from platformio_plugin.tflm import sources as src

    trees = src.resolve_sources(kernels="cmsis-nn")
    overlay = flatbuffers_patch.write_overlay(
        flatbuffers_patch.patched_headers(trees), out / "include"
    )
    selection = sel.select(trees, [], "cmsis-nn", overlay_include=overlay)
    includes = [f"-I{p}" for p in selection.include_dirs]
    defines = [f"-D{d}" if v is None else f"-D{d}={v}" for d, v in selection.defines]
    flags = board_flags()
    files = whole_tree(trees)
    if limit is not None:
        files = files[:limit]
    total = len(files)
    files = files[::sample]
    objdir = out / "obj"
    shutil.rmtree(objdir, ignore_errors=True)
    objdir.mkdir(parents=True)

    def build(item: tuple[int, tuple[Path, str]]) -> bool:
        i, (path, opt) = item
        if path.suffix == ".cc":
            tool = ["arm-none-eabi-g++", f"-std={sel.CXX_STD}", *sel.TFLM_CXXFLAGS]
        else:
            tool = ["arm-none-eabi-gcc", f"-std={sel.C_STD}"]
        cmd = [
            *tool,
            *flags,
            opt,
            *defines,
            *includes,
            "-c",
            str(path),
            "-o",
            str(objdir / f"{i}.o"),
        ]
        return subprocess.run(cmd, capture_output=True, check=False).returncode == 0

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        ok = list(pool.map(build, enumerate(files)))
    seconds = time.perf_counter() - started
    failed = len(files) - sum(ok)
    return {
        "seconds": round(seconds * total / len(files), 1),
        "measured_seconds": round(seconds, 1),
        "sources": total,
        "compiled": len(files),
        "objects": total - round(failed * total / len(files)),
        "failed": round(failed * total / len(files)),
        "scaled_from_every_kth": sample,
    }


def quick_project(dest: Path) -> Path:
    """The mnist example's project with hello_world's int8 model instead (no conversion)."""
    project = common.copy_example(common.MNIST, dest)
    shutil.rmtree(project / "models")
    (project / "models").mkdir()
    shutil.copyfile(
        common.SHARED_MODELS / "tflm_hello_world" / "hello_world_int8.tflite",
        project / "models" / "hello_world_int8.tflite",
    )
    (project / "src" / "main.cpp").write_text(
        '#include "tinyml/hello_world_int8.h"\n#include "tinyml/model.h"\n'
        "tinyml::Model<tinyml::hello_world_int8> model;\n"
        "int main() { return model.begin() ? 0 : 1; }\n"
    )
    ini = project / "platformio.ini"
    ini.write_text(ini.read_text().replace("custom_tinyml_input_shape = 1, 1, 8, 8", ""))
    return project


def run(ctx: Context) -> dict[str, Any]:
    work = ctx.out / "first-build"
    project = (
        quick_project(work / "plugin")
        if ctx.quick
        else common.copy_example(common.MNIST, work / "plugin")
    )
    # Convert once, outside the timing (the conversion cache survives the build folder).
    must(common.pio(["run", "-e", ENV, "-t", "tinyml-info"], project, ctx.core), "conversion")
    build_dir = project / ".pio" / "build" / ENV
    a_runs: list[dict[str, Any]] = []
    b_runs: list[dict[str, Any]] = []
    for _ in range(ctx.build_runs):
        shutil.rmtree(build_dir, ignore_errors=True)
        shutil.rmtree(ctx.core / "tinyml" / "tflm-lib", ignore_errors=True)
        built = must(common.pio(["run", "-e", ENV], project, ctx.core), "first build")
        a_runs.append(
            {
                "seconds": round(built.seconds, 1),
                "objects": len(list(build_dir.rglob("*.o"))),
                "tflm_objects": len(list(build_dir.glob("tinyml-tflm-*/**/*.o"))),
            }
        )
        b_runs.append(compile_tree(work / "tree", 20 if ctx.quick else None, ctx.tree_sample))
    ctx.shared["rebuild_project"] = str(project)
    import statistics

    a_s = statistics.median(r["seconds"] for r in a_runs)
    b_s = statistics.median(r["seconds"] for r in b_runs)
    return {
        "a": "plugin: first `pio run` of examples/mnist-pytorch (mps2-an386), whole process",
        "b": "TFLM's whole library tree + CMSIS-NN, same flags, 2 jobs, compile only"
        + (" (quick: first 20 files only)" if ctx.quick else "")
        + (
            f" (every {ctx.tree_sample}th file compiled, time and counts scaled)"
            if ctx.tree_sample > 1
            else ""
        ),
        "runs": ctx.build_runs,
        "plugin": a_runs,
        "whole_tree": b_runs,
        "plugin_median_s": a_s,
        "whole_tree_median_s": b_s,
        "speedup": round(b_s / a_s, 2),
        "goal": "speedup >= 3",
    }
