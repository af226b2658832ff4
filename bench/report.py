"""results.json -> the markdown tables of bench/out/results.md (and of RESULTS.md)."""

from __future__ import annotations

from typing import Any, Optional

from . import aot

GOALS = {  # model -> (CMSIS-NN vs reference instructions on the Cortex-M4)
    "person_detect": 0.05,
    "kws_ref_model_int8": 0.07,
}
ARENA_SLACK_GOAL = 2.0
TEXT_GOAL = 0.55


def _ok(value: Optional[float], limit: float, below: bool = True) -> str:
    if value is None:
        return "-"
    return "met" if (value <= limit if below else value >= limit) else "**missed**"


def _n(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return f"{value:,}"


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Date {results['date']}, command `{results['command'].strip()}`"
        f"{' (quick mode)' if results.get('quick') else ''}, "
        f"total {results.get('total_wall_s', '-')} s.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, load average at "
        f"start {m['load_average_at_start']}; {m['gcc_arm']}; {m['qemu']}; {m['platformio']}.",
        "",
    ]
    b = results["benchmarks"]
    summary = ["| # | Benchmark | A | B | A/B | Goal | |", "|---|---|---|---|---|---|---|"]
    if "rebuild" in b:
        t = b["rebuild"]["timing"]
        summary.append(
            f"| 1 | no-change rebuild (median of {t['runs']}) | plugin "
            f"{t['a_median_s']} s | hand-made {t['b_median_s']} s | {t['ratio']} "
            f"(pairs {t['pair_ratio_median']}) | <= 1.05 | {_ok(t['ratio'], 1.05)} |"
        )
    if "convert" in b:
        t = b["convert"]["timing"]
        summary.append(
            f"| 2 | cold .pth -> header (median of {t['runs']}) | plugin "
            f"{t['a_median_s']} s | seed pipeline {t['b_median_s']} s | {t['ratio']} "
            f"(pairs {t['pair_ratio_median']}) | <= 0.8 | {_ok(t['ratio'], 0.8)} |"
        )
    if "first-build" in b:
        f = b["first-build"]
        a, w = f["plugin"][-1], f["whole_tree"][-1]
        k = w.get("scaled_from_every_kth", 1)
        scaled = f", scaled from every {k}th file" if k > 1 else ""
        summary.append(
            f"| 3 | first TFLM build, Cortex-M4 ({f['runs']} run) | plugin "
            f"{f['plugin_median_s']} s,"
            f" {a['objects']} objects ({a['tflm_objects']} TFLM) | whole tree "
            f"{f['whole_tree_median_s']} s, {w['objects']} objects ({w['failed']} sources failed)"
            f"{scaled}"
            f" | {round(1 / f['speedup'], 3) if f['speedup'] else '-'} ({f['speedup']}x faster)"
            f" | >= 3x faster | {_ok(f['speedup'], 3, below=False)} |"
        )
    if "probe" in b:
        for label, key, goal in (
            ("probe overhead: first build", "first", None),
            ("probe overhead: build after a clean", "clean", None),
            ("probe overhead: no-change build", "again", 1.05),
        ):
            t = b["probe"][key]
            summary.append(
                f"| 6 | {label} (median of {t['runs']}) | probe {t['a_median_s']} s | "
                f"no probe {t['b_median_s']} s | {t['ratio']} (pairs {t['pair_ratio_median']}) "
                f"| {'<= ' + str(goal) if goal else '+ a few s'} | "
                f"{_ok(t['ratio'], goal) if goal else '-'} |"
            )
    lines += summary + [""]
    if "convert" in b:
        c = b["convert"]
        lines += [
            "Seed pipeline stages (median s): "
            + ", ".join(f"{k} {v}" for k, v in c["seed_stages_median_s"].items())
            + ".",
            "",
        ]
        if "routes" in c:
            lines += route_table(c["routes"])
    if "firmware" in b:
        lines += firmware_tables(b["firmware"])
    return "\n".join(lines) + "\n"


def route_table(routes: dict[str, Any]) -> list[str]:
    """The digits .pth through each PyTorch route (custom_tinyml_frontend)."""
    t = routes["timing"]
    lines = [
        f"PyTorch routes, digits_cnn.pth, `python -m platformio_plugin convert` (median of "
        f"{t['runs']}): onnx2tf {t['a_median_s']} s, litert-torch {t['b_median_s']} s "
        f"(ratio {t['ratio']}, pairs {t['pair_ratio_median']}).",
        "",
        "| Route | steps (s, last run) | int8 .tflite | arena (host) | accuracy float / int8 "
        "| top-1 agreement |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in routes["per_route"].items():
        steps = ", ".join(f"{k} {v}" for k, v in r["steps_s"].items())
        lines.append(
            f"| {name} | {steps} | {_n(r['tflite_bytes'])} B | {_n(r['arena_bytes_host'])} B "
            f"| {r['accuracy_float']} % / {r['accuracy_int8']} % | {r['top1_agreement']} % |"
        )
    return lines + [""]


def firmware_tables(fw: dict[str, Any]) -> list[str]:
    lines = [
        "Firmware: instructions per inference counted by `bench/qemu_insn` (one inference after a"
        " warm-up, input = zero point), MACs from `pio run -t tinyml-info`, arena on target,"
        " per-model .text/.data/.bss (firmware relinked with that model alone).",
        "",
        "| env | model | MACs | instructions | build's probe / QEMU | insn/MAC | kArenaSize "
        "| arena used | slack % | .text | .data | .bss |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for env, e in fw["envs"].items():
        for model, r in e["models"].items():
            s = r.get("sizes", {})
            lines.append(
                f"| {env} | {model} | {_n(fw['models'][model]['macs'])} | {_n(r['instructions'])}"
                f" | {_n(r.get('probe_vs_qemu'))} | {_n(r['insn_per_mac'])} | {_n(r['arena_size'])}"
                f" | {_n(r['arena_used'])} | "
                f"{r['arena_slack_pct']} | {_n(s.get('text'))} | {_n(s.get('data'))} | "
                f"{_n(s.get('bss'))} |"
            )
    lines += [
        "",
        "| env | build s | TFLM objects | firmware with every model: .text / .data / .bss |",
        "|---|---|---|---|",
    ]
    for env, e in fw["envs"].items():
        if "firmware_all_models" not in e:  # AoT envs: one firmware per model
            continue
        s = e["firmware_all_models"]
        lines.append(
            f"| {env} | {e['build_s']} | {e['tflm_objects']} | {_n(s['text'])} / "
            f"{_n(s['data'])} / {_n(s['bss'])} |"
        )
    lines += [
        "",
        "| model | CMSIS-NN / reference insn, M4 | goal | CMSIS-NN / reference insn, "
        "M0+ | CMSIS-NN insn M0+ / M7 / M33 vs M4 | generated / all-ops .text "
        "| goal <= 0.55 | arena slack % (M4) | goal <= 2 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model, r in fw["ratios"].items():
        m4 = r.get("m4_cmsis_vs_reference_insn")
        goal = GOALS.get(model)
        text = r.get("generated_vs_all_ops_text")
        slack = r.get("m4_arena_slack_pct")
        lines.append(
            f"| {model} | {_n(m4)} | {f'<= {goal} ' + _ok(m4, goal) if goal else '-'} | "
            f"{_n(r.get('m0plus_cmsis_vs_reference_insn'))} | "
            f"{' / '.join(_n(r.get(f'{c}_vs_m4_cmsis_insn')) for c in ('m0plus', 'm7', 'm33'))} | "
            f"{_n(text)} | "
            f"{_ok(text, TEXT_GOAL)} | {_n(slack)} | {_ok(slack, ARENA_SLACK_GOAL)} |"
        )
    lines.append("")
    if fw.get("aot"):
        lines += aot.table(fw["aot"])
    return lines


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several results.json (benchmarks run as separate `bench/run --only ...`) as one."""
    merged = dict(parts[0])
    merged["benchmarks"] = {}
    for part in parts:
        merged["benchmarks"].update(part["benchmarks"])
    merged["command"] = "; ".join(p["command"].strip() for p in parts)
    merged["total_wall_s"] = round(sum(p.get("total_wall_s", 0) for p in parts), 1)
    return merged


if __name__ == "__main__":  # python -m bench.report out/a/results.json out/b/results.json
    import json
    import sys
    from pathlib import Path

    print(render(merge([json.loads(Path(p).read_text()) for p in sys.argv[1:]])), end="")
