"""Benchmark 2: cold conversion of the mnist example's .pth to a C header.

A: the plugin, whole process: `pio run -e mps2-an386 -t tinyml-info` on a copy of
   examples/mnist-pytorch after removing its conversion cache and generated files (the hook
   converts, checks and generates the headers; the target compiles nothing).
B: the seed's manual pipeline as separate processes with the converter environment's python
   (same pins): torch.onnx.export, onnx2tf, TFLiteConverter int8, `xxd -i`.
Routes: the plugin's `convert` command on the same .pth, once per PyTorch route
   (custom_tinyml_frontend = onnx2tf, litert-torch), interleaved: whole process, each step,
   the int8 model's size, arena and accuracy. The LiteRT Torch environment is made beforehand
   (not timed) when the core dir has none.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
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
    n = ctx.runs
    return {
        "routes": routes(ctx),
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


ROUTES = ("onnx2tf", "litert-torch")


def routes(ctx: Context) -> dict[str, Any]:
    """The digits .pth through each PyTorch route with the plugin's convert command."""
    from platformio_plugin.convert.environment import ensure_litert_torch_python

    # An installation like the converter's: made once in the shared core dir, linked here.
    made = ensure_litert_torch_python(common.SHARED_CORE, common.say).parents[1]
    link = ctx.core / "tinyml" / made.name
    if not link.exists():
        link.symlink_to(made, target_is_directory=True)
    models = common.MNIST / "models"
    out = ctx.out / "convert" / "routes"
    args = [
        str(models / "digits_cnn.pth"),
        "--model-class",
        f"{models / 'digits_cnn.py'}:DigitsCNN",
        "--input-shape",
        "1,1,8,8",
        "--calibration",
        str(models / "calibration.npy"),
        "--validation",
        str(models / "digits_cnn.validation.npz"),
    ]
    environ = dict(common.pio_environ(ctx.core), PYTHONPATH=str(common.plugin_root()))
    reports: dict[str, dict[str, Any]] = {}

    def convert(route: str) -> float:
        folder = out / route
        shutil.rmtree(folder, ignore_errors=True)
        command = [str(common.VENV_BIN / "python"), "-m", "platformio_plugin", "convert", *args]
        result = must(
            common.run_timed(command + ["--frontend", route, "--out", str(folder), "--json"],
                             common.REPO, environ),
            f"convert --frontend {route}",
        )  # fmt: skip
        reports[route] = json.loads(result.output[result.output.index("\n{") + 1 :])["report"]
        return result.seconds

    timing = common.ab_medians(
        lambda: convert(ROUTES[0]), lambda: convert(ROUTES[1]), ctx.runs, warmup=not ctx.quick
    )
    per_route = {}
    for route in ROUTES:
        r = reports[route]
        per_route[route] = {
            "route": r["route"],
            "steps_s": {k: v["seconds"] for k, v in r["stages"].items()},
            "tflite_bytes": r["tflite_bytes"],
            "arena_bytes_host": r["arena_bytes_host"],
            "accuracy_float": round(float(r["accuracy_float"]), 2),
            "accuracy_int8": round(float(r["accuracy_int8"]), 2),
            "top1_agreement": round(float(r["top1_agreement"]), 2),
        }
    return {
        "a": f"python -m platformio_plugin convert --frontend {ROUTES[0]}",
        "b": f"python -m platformio_plugin convert --frontend {ROUTES[1]}",
        "timing": timing,
        "per_route": per_route,
    }


def _steps(output: str) -> dict[str, float]:
    """Step timings the plugin prints ("... 1.2 s"), when it prints them."""
    steps: dict[str, float] = {}
    for line in output.splitlines():
        m = re.match(r"TinyML: (.*?)[:\s(]+([\d.]+) s\)?$", line.strip())
        if m:
            steps[m.group(1).strip()[:60]] = float(m.group(2))
    return steps
