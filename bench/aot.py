"""The ahead-of-time runtime against the interpreter (benchmark 4, envs ``m4-aot`` and
``m0plus-aot``): the same boards and CMSIS-NN kernels, ``custom_tinyml_runtime = aot``.

Each model gets its own AoT env (``<env>-<model>``, ``custom_tinyml_models`` = that model), so
a model the generator does not cover fails its own build only; it is recorded as
"unsupported: <nodes>". Footprint per model, for the firmware linked with that model alone:
flash = .text + .rodata, RAM = .data + .bss + the stack high-water the firmware measured.
"net" figures subtract the same program linked without a model (the interpreter env's baseline:
startup, semihosting, printf), leaving what the model and its runtime cost.
Everything here is pure: results in, rows and text out (``firmware.py`` builds and runs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

COUNTERPART = {  # AoT env -> the interpreter env of the same board and kernels
    "m4-aot": "m4-cmsis-nn",
    "m0plus-aot": "m0plus-cmsis-nn",
    "m4-aot-whole": "m4-cmsis-nn",  # custom_tinyml_aot_in_place = no
    "m0plus-aot-whole": "m0plus-cmsis-nn",
}
CPU = {
    "m4-aot": "M4",
    "m0plus-aot": "M0+",
    "m4-aot-whole": "M4, no in-place",
    "m0plus-aot-whole": "M0+, no in-place",
}


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


def ini_sections(aot_env: str, board: str, models: list[str], in_place: str = "auto") -> list[str]:
    """platformio.ini sections of one AoT env: one per model."""
    lines: list[str] = []
    for model in models:
        lines += [
            f"[env:{env_name(aot_env, model)}]",
            f"board = {board}",
            "custom_tinyml_kernels = cmsis-nn",
            "custom_tinyml_runtime = aot",
            f"custom_tinyml_aot_in_place = {in_place}",
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


def flash_of(sizes: dict[str, int]) -> int:
    return sizes["text"] + sizes.get("rodata", 0)


def footprint(row: dict[str, Any], baseline: Optional[dict[str, int]]) -> Optional[dict[str, int]]:
    """flash and RAM of a model's one-model firmware, whole and net of the baseline; None
    without sizes or stack."""
    sizes, stack = row.get("sizes"), row.get("stack")
    if not sizes or stack is None:
        return None
    out = {
        "flash": flash_of(sizes),
        "ram": sizes["data"] + sizes["bss"] + stack,
        "stack": stack,
        "stack_base": row.get("stack_base", 0),
        "instructions": row["instructions"],
    }
    if baseline:
        out["flash_net"] = out["flash"] - flash_of(baseline)
        out["ram_net"] = out["ram"] - baseline["data"] - baseline["bss"]
    return out


def _ratio(a: Optional[int], b: Optional[int]) -> Optional[float]:
    return round(a / b, 3) if a is not None and b else None


def _met(value: Optional[float], bound: Optional[float]) -> Optional[bool]:
    return None if value is None or bound is None else value <= bound


def compare_model(
    interp: Optional[dict[str, Any]],
    aot: Optional[dict[str, Any]],
    goal: Goal,
    baseline: Optional[dict[str, int]] = None,
) -> dict[str, Any]:
    """One model on one core: both footprints, AoT / interpreter ratios, goal met or not."""
    row: dict[str, Any] = {"goal": {"ram": goal.ram, "flash": goal.flash, "insn": goal.insn}}
    if aot is not None and "error" in aot:
        row["aot_error"] = aot["error"]
    a = footprint(aot, baseline) if aot else None
    i = footprint(interp, baseline) if interp else None
    row["interpreter"], row["aot"] = i, a
    if aot and interp and "output_fnv" in aot and "output_fnv" in interp:
        row["same_output"] = aot["output_fnv"] == interp["output_fnv"]
    if a is None or i is None:
        return row
    keys = ("flash", "ram", "instructions", "flash_net", "ram_net")
    row["ratio"] = {k: _ratio(a.get(k), i.get(k)) for k in keys}
    bounds = {"flash": goal.flash, "ram": goal.ram, "instructions": goal.insn}
    bounds |= {"flash_net": goal.flash, "ram_net": goal.ram}
    row["met"] = {k: _met(row["ratio"][k], bounds[k]) for k in keys}
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
            baseline = envs.get(interp_env, {}).get("baseline_sizes")
            out.setdefault(model, {})[CPU[aot_env]] = compare_model(interp, aot, goal, baseline)
    return out


def _n(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _verdict(row: dict[str, Any], key: str) -> str:
    ratio = row.get("ratio", {}).get(key)
    bound = row["goal"]["insn" if key == "instructions" else key.removesuffix("_net")]
    if ratio is None:
        return "-"
    if bound is None:
        return f"{ratio}"
    return f"{ratio} " + ("met" if row["met"][key] else "**missed**")


def _pair(i: dict[str, Any], a: dict[str, Any], key: str) -> str:
    return f"{_n(i.get(key))} / {_n(a.get(key))}"


def table(comp: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown: one row per model and core."""
    lines = [
        "AoT (`custom_tinyml_runtime = aot`) vs interpreter, CMSIS-NN both, each firmware linked "
        "with one model: flash = .text + .rodata, RAM = .data + .bss + stack high-water "
        "(measured on target), instructions per inference. Net: minus the same program linked "
        "without a model (startup, semihosting, printf). Ratios AoT / interpreter, met or "
        "missed against the goal (RAM <= 0.3, flash <= 0.4 for hello_world and digits; "
        "RAM <= 0.55, flash <= 0.7 for KWS, AD, person detection; instructions <= 1.0).",
        "",
        "| model | core | flash interp / AoT | net flash | RAM interp / AoT | net RAM "
        "| stack | insn interp / AoT | flash | net flash | RAM | net RAM | insn | same output |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model, cores in comp.items():
        for core, row in cores.items():
            i, a = row.get("interpreter") or {}, row.get("aot") or {}
            if not a:
                why = row.get("aot_error", "AoT not measured")
                lines.append(f"| {model} | {core} | {why} |" + " |" * 12)
                continue
            same = row.get("same_output")
            cells = [_pair(i, a, k) for k in ("flash", "flash_net", "ram", "ram_net", "stack")]
            cells.append(_pair(i, a, "instructions"))
            cells += [_verdict(row, k) for k in ("flash", "flash_net", "ram", "ram_net")]
            cells.append(_verdict(row, "instructions"))
            cells.append("-" if same is None else ("yes" if same else "**no**"))
            lines.append(f"| {model} | {core} | " + " | ".join(cells) + " |")
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
                f"aot {model} {core}: flash {r['flash']} (net {r['flash_net']}), RAM {r['ram']} "
                f"(net {r['ram_net']}), insn {r['instructions']} (AoT / interpreter)"
            )
    return lines
