"""Benchmarks 4 and 5: the firmware on emulated Cortex-M cores.

One PlatformIO project holds every model; each env is one (CPU, kernel set, resolver) and so
one TFLite Micro build. Per env: the firmware runs every model in QEMU with the insn_count
plugin (instructions per inference, arena use on target); on the Cortex-M4 envs the firmware is
also relinked with one model at a time for per-model .text/.data/.bss (the TFLM library is the
env's, only the program changes, and --gc-sections keeps only what the model reaches). The
firmware measures each model's stack high-water too.

The AoT envs (m4-aot, m0plus-aot: custom_tinyml_runtime = aot; m4-aot-whole, m0plus-aot-whole: the
same with custom_tinyml_aot_in_place = no) build one firmware per model and
are compared with the interpreter env of the same board (aot.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from . import aot, common
from .common import Context, must, say

PERSON = "tflm_person_detection/person_detect.tflite"
KWS = "mlperf_kws_dscnn/kws_ref_model_int8.tflite"
HELLO = "tflm_hello_world/hello_world_int8.tflite"
MICRO_SPEECH = "tflm_micro_speech/micro_speech_quantized.tflite"
AD = "mlperf_ad_autoencoder/ad01_int8.tflite"
MNIST_NAME = "digits_cnn"
MNIST_CLASS = "DigitsCNN"


@dataclass(frozen=True)
class FirmwareEnv:
    name: str
    board: str
    kernels: str  # cmsis-nn | reference
    all_ops: bool = False
    per_model_sizes: bool = False
    runtime: str = "tflm"  # tflm | aot (one firmware per model)
    aot_in_place: str = "auto"  # custom_tinyml_aot_in_place of an AoT env


ENVS = (  # in order of importance: a run cut short still has the main numbers
    FirmwareEnv("m4-cmsis-nn", "mps2-an386", "cmsis-nn", per_model_sizes=True),
    FirmwareEnv("m4-aot", "mps2-an386", "cmsis-nn", runtime="aot"),
    FirmwareEnv("m4-reference", "mps2-an386", "reference"),
    FirmwareEnv("m0plus-cmsis-nn", "mps2-m0plus", "cmsis-nn", per_model_sizes=True),
    FirmwareEnv("m0plus-aot", "mps2-m0plus", "cmsis-nn", runtime="aot"),
    FirmwareEnv("m0plus-reference", "mps2-m0plus", "reference"),
    FirmwareEnv("m4-aot-whole", "mps2-an386", "cmsis-nn", runtime="aot", aot_in_place="no"),
    FirmwareEnv("m0plus-aot-whole", "mps2-m0plus", "cmsis-nn", runtime="aot", aot_in_place="no"),
    FirmwareEnv(
        "m4-cmsis-nn-all-ops", "mps2-an386", "cmsis-nn", all_ops=True, per_model_sizes=True
    ),
    FirmwareEnv("m7-cmsis-nn", "mps2-an500", "cmsis-nn"),
    FirmwareEnv("m33-cmsis-nn", "mps2-an505", "cmsis-nn"),
)
QUICK_ENVS = ("m4-cmsis-nn", "m4-aot")


def chosen_envs(wanted: tuple[str, ...]) -> list[FirmwareEnv]:
    """The envs asked for (all when none), with the interpreter env each AoT env is compared
    with."""
    names = set(wanted) | {aot.COUNTERPART[n] for n in wanted if n in aot.COUNTERPART}
    return [e for e in ENVS if not wanted or e.name in names]


def build_plugin(out: Path) -> Path:
    """Compile bench/qemu_insn/insn_count.c with the system gcc."""
    so = out / "libinsn_count.so"
    src = common.BENCH / "qemu_insn" / "insn_count.c"
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-o", str(so), str(src)], check=True
    )
    return so


def mnist_tflite(ctx: Context) -> Path:
    """The mnist example's int8 model, converted by the plugin (or taken from benchmark 2)."""
    made = ctx.shared.get("mnist_tflite")
    if made and Path(made).is_file():
        return Path(made)
    out = ctx.out / "mnist-convert"
    shutil.rmtree(out, ignore_errors=True)
    models = common.MNIST / "models"
    must(
        common.run_timed(
            [
                str(common.VENV_BIN / "python"),
                "-m",
                "platformio_plugin",
                "convert",
                str(models / "digits_cnn.pth"),
                "--out",
                str(out),
                "--input-shape",
                "1,1,8,8",
                "--model-class",
                f"{models / 'digits_cnn.py'}:{MNIST_CLASS}",
                "--calibration",
                str(models / "calibration.npy"),
                "--core-dir",
                str(ctx.core),
            ],
            common.plugin_root(),
            common.pio_environ(ctx.core),
        ),
        "converting the mnist example",
    )
    found = sorted(out.rglob("*.tflite"))
    if not found:
        raise SystemExit(f"bench: no .tflite in {out}")
    return found[0]


def model_files(ctx: Context) -> dict[str, Path]:
    if ctx.quick:
        return {"hello_world_int8": common.SHARED_MODELS / HELLO}
    return {
        "person_detect": common.SHARED_MODELS / PERSON,
        "kws_ref_model_int8": common.SHARED_MODELS / KWS,
        "hello_world_int8": common.SHARED_MODELS / HELLO,
        MNIST_NAME: mnist_tflite(ctx),
        "micro_speech_quantized": common.SHARED_MODELS / MICRO_SPEECH,
        "ad01_int8": common.SHARED_MODELS / AD,
    }


def ini_text(envs: list[FirmwareEnv], models: list[str]) -> str:
    repo = common.REPO
    lines = [
        "; Written by bench/firmware.py: one env per (CPU, kernel set, resolver).",
        "[env]",
        f"platform = symlink://{repo}/platforms/emulated-cortex-m",
        f"lib_deps = symlink://{common.plugin_root()}",
        f"custom_bench_repo = {common.plugin_root()}",
        "board_emulator.timeout = 600",
        "",
    ]
    for e in envs:
        if e.runtime == "aot":
            lines += aot.ini_sections(e.name, e.board, models, e.aot_in_place)
            continue
        lines += [f"[env:{e.name}]", f"board = {e.board}", f"custom_tinyml_kernels = {e.kernels}"]
        if e.all_ops:
            lines += [
                "custom_tinyml_runtime = none",
                f"extra_scripts = post:{common.BENCH / 'firmware' / 'all_ops.py'}",
            ]
        lines.append("")
    return "\n".join(lines)


def models_header(names: list[str], all_ops: bool) -> str:
    from platformio_plugin.tflm import op_table

    lines = ["// Written by bench/firmware.py.", "#pragma once", ""]
    lines += [f'#include "tinyml/{n}.h"' for n in names]
    lines += ["", "#define BENCH_MODELS(X) " + " ".join(f"X({n})" for n in names), ""]
    if all_ops:
        calls = [op.resolver_call() for op in op_table.BUILTIN_OPS.values()]
        lines += [
            "// Every builtin op TFLite Micro has, with its default registration.",
            "template <class M>",
            "struct AllOps : M {",
            f"  using OpResolver = tflite::MicroMutableOpResolver<{len(calls)}>;",
            "  static TfLiteStatus RegisterOps(OpResolver& r) {",
            *[f"    if (r.{c} != kTfLiteOk) return kTfLiteError;" for c in calls],
            "    return kTfLiteOk;",
            "  }",
            "};",
            "#define BENCH_RESOLVER AllOps",
        ]
    else:
        lines += [
            "template <class M>",
            "using Generated = M;  // the generated RegisterOps()",
            "#define BENCH_RESOLVER Generated",
        ]
    return "\n".join(lines) + "\n"


def section_sizes(size_a_output: str) -> dict[str, int]:
    """Section name -> bytes, from `arm-none-eabi-size -A -d`."""
    found: dict[str, int] = {}
    for line in size_a_output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            found[parts[0]] = int(parts[1])
    return found


def elf_sizes(elf: Path) -> dict[str, int]:
    """.text, .rodata (0 when the linker script puts it in .text, as the emulated boards'
    does), .data, .bss."""
    sections = section_sizes(
        subprocess.run(
            ["arm-none-eabi-size", "-A", "-d", str(elf)], capture_output=True, text=True, check=True
        ).stdout
    )
    return {k[1:]: sections.get(k, 0) for k in (".text", ".rodata", ".data", ".bss")}


def marker_address(elf: Path) -> int:
    out = subprocess.run(
        ["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "bench_mark":
            return int(parts[0], 16)
    raise SystemExit(f"bench: no bench_mark symbol in {elf}")


def run_counted(build_dir: Path, plugin: Path, log: Path) -> tuple[str, list[int], str]:
    """Run the firmware in QEMU with insn_count: its output, the marks in order, and why it
    failed ("" when it exited with 0; the models before the failing one still count)."""
    exec_info = json.loads((build_dir / "exec.json").read_text())
    elf = build_dir / "firmware.elf"
    command = [
        *exec_info["command"],
        "-plugin",
        f"{plugin},marker={hex(marker_address(elf))}",
        "-d",
        "plugin",
        "-D",
        str(log),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    error = ""
    if proc.returncode != 0:
        error = f"exit {proc.returncode}: " + " / ".join(
            ln for ln in proc.stdout.splitlines()[-3:] if not ln.startswith("bench: model")
        )
        say(f"firmware failed: {error}")
    marks = [int(m) for m in re.findall(r"insn_count: mark (\d+)", log.read_text())]
    return proc.stdout, marks, error


def parse_run(stdout: str, marks: list[int]) -> dict[str, dict[str, Any]]:
    rows = re.findall(
        r"bench: model (\w+) arena_size (\d+) arena_used (\d+) argmax (-?\d+) stack (\d+)"
        r" stack_base (\d+) output_fnv ([0-9a-f]+)",
        stdout,
    )
    if len(marks) < 2 * len(rows):
        raise SystemExit(f"bench: {len(marks)} marks for {len(rows)} models:\n{stdout}")
    out: dict[str, dict[str, Any]] = {}
    for i, (name, size, used, argmax, stack, base, fnv) in enumerate(rows):
        out[name] = {
            "instructions": marks[2 * i + 1] - marks[2 * i],
            "arena_size": int(size),
            "arena_used": int(used),
            "arena_slack_pct": round((int(size) - int(used)) * 100 / int(size), 2),
            "argmax": int(argmax),
            "stack": int(stack),
            "stack_base": int(base),
            "output_fnv": fnv,
        }
    return out


def macs(info_output: str) -> dict[str, int]:
    found: dict[str, int] = {}
    current: Optional[str] = None
    for line in info_output.splitlines():
        m = re.match(r"Model (\w+)\s", line)
        if m:
            current = m.group(1)
        m = re.match(r"\s+MACs\s+([\d,]+)", line)
        if m and current:
            found[current] = int(m.group(1).replace(",", ""))
    return found


def probe_counts(build_dir: Path) -> dict[str, int]:
    """Instructions per inference the build's probe counted (Unicorn, the env's own library),
    per model; {} when the env ran no probe."""
    path = build_dir / "tinyml-probe" / "result.json"
    if not path.is_file():
        return {}
    models = json.loads(path.read_text()).get("models", {})
    return {name: int(m["instructions"]) for name, m in models.items()}


@dataclass(frozen=True)
class Project:
    """The benchmark's PlatformIO project and what every env's build and run needs."""

    ctx: Context
    path: Path
    plugin: Path  # the insn_count QEMU plugin
    names: list[str]  # models
    macs: dict[str, int]

    @property
    def header(self) -> Path:
        return self.path / "src" / "bench_models.h"

    def build_dir(self, env: str) -> Path:
        return self.path / ".pio" / "build" / env

    def build(self, env: str, models: list[str], all_ops: bool = False) -> common.Timed:
        self.header.write_text(models_header(models, all_ops))
        return common.pio(["run", "-e", env], self.path, self.ctx.core)

    def run(self, env: str) -> tuple[dict[str, dict[str, Any]], str]:
        """Each model's row from one QEMU run of the env's firmware, and why it failed."""
        stdout, marks, error = run_counted(
            self.build_dir(env), self.plugin, self.ctx.out / f"insn-{env}.log"
        )
        rows = parse_run(stdout, marks)
        for name, row in rows.items():
            m = self.macs.get(name)
            row["insn_per_mac"] = round(row["instructions"] / m, 3) if m else None
        return rows, error


def run_interpreter_env(p: Project, e: FirmwareEnv) -> dict[str, Any]:
    built = must(p.build(e.name, p.names, e.all_ops), f"building {e.name}")
    build_dir = p.build_dir(e.name)
    per_model, error = p.run(e.name)
    probed = probe_counts(build_dir)
    for name, row in per_model.items():
        row["probe_instructions"] = probed.get(name)
        if probed.get(name) and row["instructions"]:
            row["probe_vs_qemu"] = round(probed[name] / row["instructions"], 4)
    env_result: dict[str, Any] = {
        "board": e.board,
        "kernels": e.kernels,
        "all_ops": e.all_ops,
        "build_s": round(built.seconds, 1),
        "tflm_objects": len(list(build_dir.glob("tinyml-tflm-*/**/*.o"))),
        "firmware_all_models": elf_sizes(build_dir / "firmware.elf"),
        "models": per_model,
    }
    if error:
        env_result["error"] = error
    if e.per_model_sizes and len(p.names) > 1:
        for name in p.names:
            must(p.build(e.name, [name], e.all_ops), f"relinking {name}")
            if name in per_model:
                per_model[name]["sizes"] = elf_sizes(build_dir / "firmware.elf")
    elif len(p.names) == 1 and p.names[0] in per_model:
        per_model[p.names[0]]["sizes"] = env_result["firmware_all_models"]
    if e.per_model_sizes:  # the same program without a model: what every firmware has
        must(p.build(e.name, [], e.all_ops), "linking without a model")
        env_result["baseline_sizes"] = elf_sizes(build_dir / "firmware.elf")
    return env_result


def run_aot_env(p: Project, e: FirmwareEnv) -> dict[str, Any]:
    """One firmware per model (env <name>-<model>): built, run, sized; a model whose build
    fails is recorded in not_built with the reason."""
    per_model: dict[str, dict[str, Any]] = {}
    not_built: dict[str, str] = {}
    errors: dict[str, str] = {}
    build_s = 0.0
    for name in p.names:
        env = aot.env_name(e.name, name)
        built = p.build(env, [name])
        build_s += built.seconds
        if built.returncode != 0:
            not_built[name] = aot.build_failure(built.output)
            say(f"firmware: {env}: {not_built[name]}")
            continue
        rows, error = p.run(env)
        if error:
            errors[name] = error
        if name in rows:
            rows[name]["sizes"] = elf_sizes(p.build_dir(env) / "firmware.elf")
            per_model[name] = rows[name]
    env_result: dict[str, Any] = {
        "board": e.board,
        "kernels": e.kernels,
        "runtime": "aot",
        "build_s": round(build_s, 1),
        "models": per_model,
        "not_built": not_built,
    }
    if errors:
        env_result["error"] = "; ".join(f"{n}: {why}" for n, why in errors.items())
    return env_result


def run(ctx: Context) -> dict[str, Any]:
    path = ctx.out / "firmware"
    if path.exists():
        shutil.rmtree(path)
    (path / "models").mkdir(parents=True)
    (path / "src").mkdir()
    models = model_files(ctx)
    for name, model in models.items():
        shutil.copyfile(model, path / "models" / f"{name}.tflite")
    shutil.copyfile(common.BENCH / "firmware" / "main.cpp", path / "src" / "main.cpp")
    envs = chosen_envs(QUICK_ENVS if ctx.quick else ctx.firmware_envs)
    names = list(models)
    (path / "platformio.ini").write_text(ini_text(envs, names))
    (path / "src" / "bench_models.h").write_text(models_header(names, False))
    info_env = next(e.name for e in envs if e.runtime != "aot")
    info = common.pio(["run", "-e", info_env, "-t", "tinyml-info"], path, ctx.core)
    model_macs = macs(must(info, "tinyml-info").output)
    p = Project(ctx, path, build_plugin(ctx.out), names, model_macs)
    result: dict[str, Any] = {"models": {n: {"macs": model_macs.get(n)} for n in names}, "envs": {}}
    for e in envs:
        say(
            f"firmware: building {e.name} ({e.board}, {e.kernels}"
            f"{', all ops' if e.all_ops else ''}{', AoT' if e.runtime == 'aot' else ''})"
        )
        env_result = run_aot_env(p, e) if e.runtime == "aot" else run_interpreter_env(p, e)
        result["envs"][e.name] = env_result
        result["ratios"] = ratios(result)
        result["aot"] = aot.comparison(result["envs"], names)
        common.write_json(ctx.out / "firmware.partial.json", result)
        say(
            f"firmware: {e.name}: "
            + ", ".join(f"{n} {r['instructions']:,} insn" for n, r in env_result["models"].items())
        )
    p.header.write_text(models_header(names, False))
    result["ratios"] = ratios(result)
    result["aot"] = aot.comparison(result["envs"], names)
    for line in aot.summary(result["aot"]):
        say(line)
    return result


def _insn(result: dict[str, Any], env: str, model: str) -> Optional[int]:
    row = result["envs"].get(env, {}).get("models", {}).get(model)
    return row["instructions"] if row else None


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in result["models"]:
        row: dict[str, Any] = {}
        for cpu in ("m4", "m0plus"):
            c, r = _insn(result, f"{cpu}-cmsis-nn", model), _insn(result, f"{cpu}-reference", model)
            if c and r:
                row[f"{cpu}_cmsis_vs_reference_insn"] = round(c / r, 4)
        for cpu in ("m0plus", "m7", "m33"):
            c, m4 = _insn(result, f"{cpu}-cmsis-nn", model), _insn(result, "m4-cmsis-nn", model)
            if c and m4:
                row[f"{cpu}_vs_m4_cmsis_insn"] = round(c / m4, 3)
        gen = result["envs"].get("m4-cmsis-nn", {}).get("models", {}).get(model, {})
        allops = result["envs"].get("m4-cmsis-nn-all-ops", {}).get("models", {}).get(model, {})
        if "sizes" in gen and "sizes" in allops:
            row["generated_vs_all_ops_text"] = round(
                gen["sizes"]["text"] / allops["sizes"]["text"], 3
            )
        if gen:
            row["m4_arena_slack_pct"] = gen["arena_slack_pct"]
        out[model] = row
    return out
