"""Benchmark 1: `pio run` with nothing changed.

A: examples/mnist-pytorch with the plugin (model unchanged: the hook checks its stamp, then
   SCons finds every object, the TFLM library's included, up to date).
B: the same project with the plugin removed and its output committed by hand: the generated
   headers and model data copied into src/, the runtime headers next to them, and TFLM as the
   prebuilt archive of A's build (with its include paths and defines in build_flags). This is
   the cheapest way the seed could rebuild (no TFLM sources in its build graph at all), so the
   ratio is an upper bound of the plugin's overhead.
Whole-process times, interleaved A B A B after a warm-up of each.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from . import common
from .common import Context, must

ENV = "mps2-an386"


def plugin_project(ctx: Context) -> Path:
    made = ctx.shared.get("rebuild_project")
    if made:
        return Path(made)
    from .first_build import quick_project

    dest = ctx.out / "rebuild" / "plugin"
    project = quick_project(dest) if ctx.quick else common.copy_example(common.MNIST, dest)
    must(common.pio(["run", "-e", ENV], project, ctx.core), "building the plugin project")
    return project


def archive(build: Path, core: Path) -> Path:
    """The TFLM archive A links: in its build folder, or in the core dir's shared cache."""
    found = sorted(build.glob("tinyml-tflm-*/libtinyml-tflm.a"))
    found = found or sorted(
        (core / "tinyml").glob("tflm-lib/*/libtinyml-tflm.a"), key=lambda p: p.stat().st_mtime
    )
    if not found:
        raise SystemExit(f"bench: no libtinyml-tflm.a in {build} or the core dir's cache")
    return found[-1]


def handmade_project(plugin: Path, dest: Path, core: Path) -> Path:
    from platformio_plugin.tflm import flatbuffers_patch
    from platformio_plugin.tflm import selection as sel
    from platformio_plugin.tflm import sources as src

    build = plugin / ".pio" / "build" / ENV
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(plugin / "src", dest / "src")
    shutil.copytree(
        build / "tinyml",
        dest / "src",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("*.json", "*.stamp", "test*"),
    )
    runtime = common.plugin_root() / "src" / "tinyml"
    for path in sorted(runtime.iterdir()):  # the whole runtime: model.h includes its siblings
        shutil.copyfile(path, dest / "src" / "tinyml" / path.name)
    prebuilt = dest / "prebuilt"
    prebuilt.mkdir()
    shutil.copyfile(archive(build, core), prebuilt / "libtinyml-tflm.a")
    trees = src.resolve_sources(kernels="cmsis-nn")
    flatbuffers_patch.write_overlay(flatbuffers_patch.patched_headers(trees), prebuilt / "include")
    selection = sel.select(trees, [], "cmsis-nn", overlay_include=prebuilt / "include")
    flags = [f"-I{p}" for p in selection.include_dirs]
    flags += [f"-D{d}" if v is None else f"-D{d}={v}" for d, v in selection.defines]
    flags += [f"-std={sel.CXX_STD}", f"-L{prebuilt}", "-ltinyml-tflm"]
    (dest / "platformio.ini").write_text(
        "\n".join(
            [
                "; The mnist example without the plugin: generated files and TFLM committed "
                "by hand.",
                f"[env:{ENV}]",
                f"platform = symlink://{common.REPO}/platforms/emulated-cortex-m",
                f"board = {ENV}",
                "build_flags =",
                *[f"  {f}" for f in flags],
                "",
            ]
        )
    )
    return dest


def run(ctx: Context) -> dict[str, Any]:
    plugin = plugin_project(ctx)
    handmade = handmade_project(plugin, ctx.out / "rebuild" / "handmade", ctx.core)
    must(common.pio(["run", "-e", ENV], handmade, ctx.core), "building the hand-made project")
    outputs: dict[str, str] = {}

    def side(project: Path, key: str) -> float:
        result = must(common.pio(["run", "-e", ENV], project, ctx.core), f"rebuild {key}")
        outputs[key] = result.output
        return result.seconds

    timing = common.ab_medians(
        lambda: side(plugin, "plugin"),
        lambda: side(handmade, "handmade"),
        ctx.runs,
        warmup=not ctx.quick,
    )
    if "models up to date" not in outputs.get("plugin", ""):
        raise SystemExit(
            "bench: the plugin's no-change rebuild did not report up to date:\n"
            + outputs.get("plugin", "")[-3000:]
        )
    return {
        "a": "plugin: `pio run -e mps2-an386`, nothing changed",
        "b": "hand-made: generated files in src/, prebuilt TFLM archive, no plugin",
        "timing": timing,
        "goal": "ratio <= 1.05",
    }
