"""The ahead-of-time runtime against the interpreter (benchmark 4, envs ``m4-aot`` and
``m0plus-aot``): the same boards and CMSIS-NN kernels, ``custom_tinyml_runtime = aot``.

Each model gets its own AoT env (``<env>-<model>``, ``custom_tinyml_models`` = that model), so
a model the generator does not cover fails its own build only; it is recorded as
"unsupported: <nodes>". Footprint per model, for the firmware linked with that model alone:
flash = .text + .rodata, RAM = .data + .bss + the stack high-water the firmware measured.
Everything here is pure: results in, rows and text out (``firmware.py`` builds and runs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

COUNTERPART = {"m4-aot": "m4-cmsis-nn", "m0plus-aot": "m0plus-cmsis-nn"}  # interpreter env
CPU = {"m4-aot": "M4", "m0plus-aot": "M0+"}


@dataclass(frozen=True)
class Goal:
    """Upper bounds of AoT / interpreter; None: no goal for that figure."""

    ram: Optional[float]
    flash: Optional[float]
    insn: float = 1.0


SMALL = Goal(ram=0.3, flash=0.4)  # hello_world, digits
MLPERF_TINY = Goal(ram=0.55, flash=0.7)  # KWS DS-CNN, AD autoencoder, person detection (VWW)
GOALS = {
    "hello_world_int8": SMALL,
    "digits_cnn": SMALL,
    "kws_ref_model_int8": MLPERF_TINY,
    "ad01_int8": MLPERF_TINY,
    "person_detect": MLPERF_TINY,
    "micro_speech_quantized": Goal(ram=None, flash=None),
}


def env_name(aot_env: str, model: str) -> str:
    return f"{aot_env}-{model}"


def ini_sections(aot_env: str, board: str, models: list[str]) -> list[str]:
    """platformio.ini sections of one AoT env: one per model."""
    lines: list[str] = []
    for model in models:
        lines += [
            f"[env:{env_name(aot_env, model)}]",
            f"board = {board}",
            "custom_tinyml_kernels = cmsis-nn",
            "custom_tinyml_runtime = aot",
            "custom_tinyml_probe = no",
            f"custom_tinyml_models = models/{model}.tflite",
            "",
        ]
    return lines


_UNSUPPORTED = re.compile(r"cannot generate code for (.+)")


def build_failure(output: str) -> str:
    """Why an AoT build failed: "unsupported: <nodes>" when the generator listed nodes it has no
    code for, else "failed: <the end of the log>"."""
    found = _UNSUPPORTED.search(output)
    if found:
        return "unsupported: " + found.group(1).strip()
    tail = [ln.strip() for ln in output.splitlines() if ln.strip()][-4:]
    return "failed: " + " / ".join(tail)


def footprint(row: dict[str, Any]) -> Optional[dict[str, int]]:
    """flash and RAM of a model's one-model firmware; None without sizes or stack."""
    sizes, stack = row.get("sizes"), row.get("stack")
    if not sizes or stack is None:
        return None
    return {
        "flash": sizes["text"] + sizes.get("rodata", 0),
        "ram": sizes["data"] + sizes["bss"] + stack,
        "stack": stack,
        "instructions": row["instructions"],
    }


def _ratio(a: Optional[int], b: Optional[int]) -> Optional[float]:
    return round(a / b, 3) if a is not None and b else None


def _met(value: Optional[float], bound: Optional[float]) -> Optional[bool]:
    return None if value is None or bound is None else value <= bound


def compare_model(
    interp: Optional[dict[str, Any]], aot: Optional[dict[str, Any]], goal: Goal
) -> dict[str, Any]:
    """One model on one core: both footprints, AoT / interpreter ratios, goal met or not."""
    row: dict[str, Any] = {"goal": {"ram": goal.ram, "flash": goal.flash, "insn": goal.insn}}
    if aot is not None and "error" in aot:
        row["aot_error"] = aot["error"]
    a = footprint(aot) if aot else None
    i = footprint(interp) if interp else None
    row["interpreter"], row["aot"] = i, a
    if aot and interp and "output_fnv" in aot and "output_fnv" in interp:
        row["same_output"] = aot["output_fnv"] == interp["output_fnv"]
    if a is None or i is None:
        return row
    row["ratio"] = {k: _ratio(a[k], i[k]) for k in ("flash", "ram", "instructions")}
    row["met"] = {
        "flash": _met(row["ratio"]["flash"], goal.flash),
        "ram": _met(row["ratio"]["ram"], goal.ram),
        "insn": _met(row["ratio"]["instructions"], goal.insn),
    }
    return row


def comparison(envs: dict[str, Any], models: list[str]) -> dict[str, dict[str, Any]]:
    """Per model, per core (M4, M0+): AoT against the interpreter env of the same board."""
    out: dict[str, dict[str, Any]] = {}
    for aot_env, interp_env in COUNTERPART.items():
        if aot_env not in envs:
            continue
        for model in models:
            interp = envs.get(interp_env, {}).get("models", {}).get(model)
            aot = envs[aot_env]["models"].get(model)
            if aot is None and model in envs[aot_env].get("not_built", {}):
                aot = {"error": envs[aot_env]["not_built"][model]}
            goal = GOALS.get(model, Goal(ram=None, flash=None))
            out.setdefault(model, {})[CPU[aot_env]] = compare_model(interp, aot, goal)
    return out


def _n(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _verdict(row: dict[str, Any], key: str, ratio_key: str) -> str:
    ratio = row.get("ratio", {}).get(ratio_key)
    met = row.get("met", {}).get(key)
    bound = row["goal"][key]
    if ratio is None:
        return "-"
    if bound is None:
        return f"{ratio} (no goal)"
    return f"{ratio} <= {bound} " + ("met" if met else "**missed**")


def table(comp: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown: one row per model and core."""
    lines = [
        "AoT (`custom_tinyml_runtime = aot`) vs interpreter, CMSIS-NN both, firmware linked with "
        "one model: flash = .text + .rodata, RAM = .data + .bss + stack high-water (measured on "
        "target), instructions per inference; ratios AoT / interpreter against the goals.",
        "",
        "| model | core | flash interp / AoT | RAM interp / AoT | stack interp / AoT "
        "| insn interp / AoT | flash ratio | RAM ratio | insn ratio | same output |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model, cores in comp.items():
        for core, row in cores.items():
            i, a = row.get("interpreter") or {}, row.get("aot") or {}
            if not a:
                why = row.get("aot_error", "AoT not measured")
                lines.append(f"| {model} | {core} | {_n(i.get('flash'))} / - | "
                             f"{_n(i.get('ram'))} / - | {_n(i.get('stack'))} / - | "
                             f"{_n(i.get('instructions'))} / - | {why} | | | |")  # fmt: skip
                continue
            same = row.get("same_output")
            lines.append(
                f"| {model} | {core} | {_n(i.get('flash'))} / {_n(a['flash'])} "
                f"| {_n(i.get('ram'))} / {_n(a['ram'])} | {_n(i.get('stack'))} / {_n(a['stack'])} "
                f"| {_n(i.get('instructions'))} / {_n(a['instructions'])} "
                f"| {_verdict(row, 'flash', 'flash')} | {_verdict(row, 'ram', 'ram')} "
                f"| {_verdict(row, 'insn', 'instructions')} "
                f"| {'-' if same is None else ('yes' if same else '**no**')} |"
            )
    return lines + [""]


def summary(comp: dict[str, dict[str, Any]]) -> list[str]:
    """One line per model and core, for the benchmark's log."""
    lines = []
    for model, cores in comp.items():
        for core, row in cores.items():
            if "ratio" not in row:
                lines.append(f"aot {model} {core}: {row.get('aot_error', 'not measured')}")
                continue
            r = row["ratio"]
            lines.append(
                f"aot {model} {core}: flash {r['flash']}, RAM {r['ram']}, "
                f"insn {r['instructions']} (AoT / interpreter)"
            )
    return lines
