"""Benchmark 2: cold conversion of the mnist example's .pth to a C header.

A: the plugin, whole process: `pio run -e mps2-an386 -t tinyml-info` on a copy of
   examples/mnist-pytorch after removing its conversion cache and generated files (the hook
   converts, checks and generates the headers; the target compiles nothing).
B: the seed's manual pipeline as separate processes with the converter environment's python
   (same pins): torch.onnx.export, onnx2tf, TFLiteConverter int8, `xxd -i`.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

from . import common
from .common import Context, must

ENV = "mps2-an386"


def run(ctx: Context) -> dict[str, Any]:
    work = ctx.out / "convert"
    project = common.copy_example(common.MNIST, work / "plugin")
    seed_dir = work / "seed"
    py = str(common.converter_python(ctx.core))
    models = common.MNIST / "models"
    seed = common.BENCH / "seed"
    stages: dict[str, list[float]] = {}
    plugin_logs: list[str] = []

    def plugin() -> float:
        build = project / ".pio" / "build"
        shutil.rmtree(project / ".pio" / "tinyml-cache", ignore_errors=True)
        for sub in ("tinyml", "tinyml-logs"):
            shutil.rmtree(build / ENV / sub, ignore_errors=True)
        result = must(
            common.pio(["run", "-e", ENV, "-t", "tinyml-info"], project, ctx.core),
            "plugin conversion",
        )
        if "converting" not in result.output:
            raise SystemExit(f"bench: the plugin did not convert:\n{result.output[-3000:]}")
        plugin_logs.append(result.output)
        return result.seconds

    def manual() -> float:
        shutil.rmtree(seed_dir, ignore_errors=True)
        seed_dir.mkdir(parents=True)
        commands = {
            "torch.onnx.export": [
                py,
                str(seed / "export_onnx.py"),
                str(models / "digits_cnn.py"),
                str(models / "digits_cnn.pth"),
                "model.onnx",
                "1,1,8,8",
            ],
            "onnx2tf": [py, "-m", "onnx2tf", "-i", "model.onnx", "-o", "saved_model", "-osd", "-n"],
            "TFLiteConverter int8": [
                py,
                str(seed / "quantize.py"),
                "saved_model",
                str(models / "calibration.npy"),
                "model.tflite",
            ],
            "xxd -i": ["sh", "-c", "xxd -i model.tflite > model_data.h"],
        }
        total = 0.0
        for name, command in commands.items():
            t = must(common.run_timed(command, seed_dir), f"seed stage {name}")
            stages.setdefault(name, []).append(t.seconds)
            total += t.seconds
        return total

    timing = common.ab_medians(plugin, manual, ctx.runs, warmup=not ctx.quick)
    tflite = sorted((project / ".pio" / "tinyml-cache").glob("*/model.tflite"))
    if tflite:
        keep = ctx.out / "digits_cnn.tflite"
        shutil.copyfile(tflite[0], keep)
        ctx.shared["mnist_tflite"] = str(keep)
    import statistics

    n = ctx.runs
    return {
        "a": "plugin: pio run -t tinyml-info, cold (.pth -> int8 .tflite -> headers)",
        "b": "seed: torch.onnx.export, onnx2tf, TFLiteConverter, xxd -i (separate processes)",
        "timing": timing,
        "seed_stages_median_s": {k: round(statistics.median(v[-n:]), 3) for k, v in stages.items()},
        "plugin_log": [ln for ln in plugin_logs[-1].splitlines() if ln.startswith("TinyML:")]
        if plugin_logs
        else [],
        "plugin_steps_s": _steps(plugin_logs[-1]) if plugin_logs else {},
        "goal": "ratio <= 0.8",
    }


def _steps(output: str) -> dict[str, float]:
    """Step timings the plugin prints ("... 1.2 s"), when it prints them."""
    steps: dict[str, float] = {}
    for line in output.splitlines():
        m = re.match(r"TinyML: (.*?)[:\s(]+([\d.]+) s\)?$", line.strip())
        if m:
            steps[m.group(1).strip()[:60]] = float(m.group(2))
    return steps
