"""Benchmark 6: what the build's probe costs.

On examples/mnist-pytorch (emulated Cortex-M4; quick mode: hello_world instead), with the
conversion and the TFLM archive already cached, so that only what the probe adds differs:
  first build: `pio run` after deleting the env's build folder and the probe's result cache,
    A with the probe (default), B with `custom_tinyml_probe = no`;
  build after a clean: `pio run` after deleting the env's build folder only (the probe's
    program and result are cached by content in the core dir), A with the probe, B without;
  no-change build: `pio run` again, A with the probe, B without (must be the same: a build with
    nothing changed runs no probe).
Whole-process times, interleaved A B A B after a warm-up of each.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from . import common
from .common import Context, must
from .first_build import quick_project

ENV = "mps2-an386"


def _project(ctx: Context, name: str, probe: bool) -> Path:
    dest = ctx.out / "probe" / name
    # Quick mode: hello_world, whose TFLM library the first-build benchmark made already.
    project = quick_project(dest) if ctx.quick else common.copy_example(common.MNIST, dest)
    if not probe:
        ini = project / "platformio.ini"
        ini.write_text(ini.read_text().replace("[env]\n", "[env]\ncustom_tinyml_probe = no\n", 1))
    must(common.pio(["run", "-e", ENV], project, ctx.core), f"building {name}")
    return project


def run(ctx: Context) -> dict[str, Any]:
    with_probe = _project(ctx, "with-probe", True)
    without = _project(ctx, "without-probe", False)
    outputs: dict[str, str] = {}

    def first(project: Path, key: str) -> float:
        shutil.rmtree(project / ".pio" / "build" / ENV, ignore_errors=True)
        if key == "probe":  # the probe's program and results, cached in the core dir
            shutil.rmtree(ctx.core / "tinyml" / "probe", ignore_errors=True)
        result = must(common.pio(["run", "-e", ENV], project, ctx.core), f"first build {key}")
        outputs[key] = result.output
        return result.seconds

    def cleaned(project: Path, key: str) -> float:
        shutil.rmtree(project / ".pio" / "build" / ENV, ignore_errors=True)
        result = must(common.pio(["run", "-e", ENV], project, ctx.core), f"after clean {key}")
        outputs[f"clean-{key}"] = result.output
        return result.seconds

    def again(project: Path, key: str) -> float:
        result = must(common.pio(["run", "-e", ENV], project, ctx.core), f"no-change {key}")
        outputs[f"again-{key}"] = result.output
        return result.seconds

    runs = 1 if ctx.quick else ctx.runs
    first_timing = common.ab_medians(
        lambda: first(with_probe, "probe"), lambda: first(without, "no-probe"), runs,
        warmup=not ctx.quick,
    )  # fmt: skip
    clean_timing = common.ab_medians(
        lambda: cleaned(with_probe, "probe"), lambda: cleaned(without, "no-probe"), runs,
        warmup=not ctx.quick,
    )  # fmt: skip
    again_timing = common.ab_medians(
        lambda: again(with_probe, "probe"), lambda: again(without, "no-probe"), runs,
        warmup=not ctx.quick,
    )  # fmt: skip
    model = "hello_world_int8" if ctx.quick else "digits_cnn"
    if f"probe: running {model}" not in outputs.get("probe", ""):
        raise SystemExit("bench: the first build with the probe did not run it")
    if "results of the emulated cortex-m4 reused" not in outputs.get("clean-probe", ""):
        raise SystemExit("bench: the build after a clean did not reuse the probe's result")
    if "probe:" in outputs.get("again-probe", ""):
        raise SystemExit("bench: a no-change build ran the probe")
    return {
        "a": "with the probe (default)",
        "b": "custom_tinyml_probe = no",
        "first": first_timing,
        "clean": clean_timing,
        "again": again_timing,
        "goal": "no-change ratio <= 1.05; first build + a few seconds",
    }
