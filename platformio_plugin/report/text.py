"""What `pio run -t tinyml-info` prints: per model, the layer table and the budget
against the board; and the one-line float vs int8 summary the build log shows."""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Optional

from ..analysis import budget, layers
from ..analysis.tflite_reader import TFLiteModel
from ..config import PluginConfig
from ..results import PreparedEnv
from ..tflm.selection import kernel_of
from .parsed import Parsed, parsed_models


def quality_summary(report: Mapping[str, Any]) -> Optional[str]:
    """One line on what int8 cost against float, from the converter's checks."""
    if report.get("max_abs_err") is None:
        return None
    text = f"int8 vs float on {report.get('compare_samples', '?')} held-out samples: "
    if report.get("top1_agreement") is not None:
        text += f"top-1 agreement {float(report['top1_agreement']):.1f} %, "
    text += (
        f"max |err| {float(report['max_abs_err']):.3g}, "
        f"mean |err| {float(report.get('mean_abs_err', 0.0)):.3g}"
    )
    if report.get("accuracy_float") is not None:
        text += (
            f", accuracy float {float(report['accuracy_float']):.1f} % / "
            f"int8 {float(report['accuracy_int8']):.1f} %"
        )
    return text


def route_summary(report: Mapping[str, Any]) -> Optional[str]:
    """Which route made a PyTorch model's int8 model (custom_tinyml_frontend), and why the
    first one was left when ``auto`` went on to the second."""
    if not report.get("route"):
        return None
    text = f"{report['route']} ({report.get('frontend', '')})"
    if report.get("frontend_fallback"):
        text += f", after {report['frontend_fallback']}"
    return text


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape) or "-"


def layer_table(parsed: TFLiteModel) -> list[str]:
    rows = [f"  {'#':>3}  {'op':<28} {'input':<18} {'output':<18} {'MACs':>12}"]
    for layer in layers.layers(parsed):
        first = _shape(layer.inputs[0]) if layer.inputs else "-"
        rows.append(
            f"  {layer.index:>3}  {layer.op:<28} {first:<18} "
            f"{_shape(layer.output):<18} {layer.macs:>12,}"
        )
    return rows


def probe_result(config: PluginConfig) -> dict[str, Any]:
    """What the build's probe measured for the env's models ({} when it ran none)."""
    import json

    path = config.build_dir / "tinyml-probe" / "result.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def aot_total(instructions: int, core: str, f_cpu: int) -> str:
    """The ahead-of-time code's instructions per inference, as the probe counted them."""
    line = f"  total {instructions:,} instructions per inference of the ahead-of-time code on the "
    line += f"emulated {core}"
    if f_cpu:
        line += f": >= {duration(instructions / f_cpu)} at {f_cpu / 1e6:g} MHz (a lower bound)"
    return line


def duration(seconds: float) -> str:
    """``5.33 ms`` / ``21 s``: three significant digits, in ms below a second."""
    return f"{seconds * 1000:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def profile_table(
    parsed: TFLiteModel, measured: Mapping[str, Any], kernels: str, core: str, f_cpu: int
) -> list[str]:
    """Per layer: op, kernel, MACs, instructions counted on the emulated core, instructions
    per MAC and share of the total; then the total as a lower bound on time."""
    total = int(measured.get("instructions", 0)) or 1
    counted = {int(p["index"]): int(p["instructions"]) for p in measured.get("profile", [])}
    rows = [
        f"  {'#':>3}  {'op':<28} {'kernel':<9} {'MACs':>12} {'instructions':>13} "
        f"{'instr/MAC':>9} {'share':>6}"
    ]
    for layer in layers.layers(parsed):
        n = counted.get(layer.index, 0)
        per_mac = f"{n / layer.macs:.2f}" if layer.macs else "-"
        rows.append(
            f"  {layer.index:>3}  {layer.op:<28} {kernel_of(layer.op, kernels):<9} "
            f"{layer.macs:>12,} {n:>13,} {per_mac:>9} {100 * n / total:>5.1f}%"
        )
    line = f"  total {total:,} instructions per inference on the emulated {core}"
    if f_cpu:
        line += (
            f": >= {duration(total / f_cpu)} at {f_cpu / 1e6:g} MHz (a lower bound: one "
            "instruction per cycle, no wait states)"
        )
    return rows + [line]


def _op_counts(parsed: TFLiteModel) -> str:
    counts = Counter(layers.op_name(o) for o in parsed.operators)
    return ", ".join(f"{name} x{n}" for name, n in sorted(counts.items()))


def render_info(
    config: PluginConfig, prepared: PreparedEnv, parsed: Optional[Parsed] = None
) -> list[str]:
    lines = [
        f"TinyML: env {config.env_name}, board {config.board.board_id or '-'} "
        f"({config.board.cpu or 'no cpu in manifest'}), kernels {prepared.kernels}"
    ]
    probed = probe_result(config)
    core = str(probed.get("core", ""))
    arenas: dict[str, int] = {}
    for model, tflite in parsed_models(prepared, parsed):
        measured = probed.get("models", {}).get(model.name)
        arena = model.arena
        arena_how = f"host measurement {model.arena_host:,} B"
        if measured:
            arena = int(measured["arena"])
            arena_how = f"measured on the emulated {core}; host estimate {model.arena:,} B"
            if measured.get("runtime") == "aot":
                arena_how = f"the ahead-of-time code's plan, checked on the emulated {core}"
        arenas[model.name] = arena
        lines += [
            "",
            f"Model {model.name}  (from {model.source})",
            f"  fingerprint  {model.fingerprint[:16]}",
            f"  ops          {_op_counts(tflite)}",
            f"  MACs         {model.macs:,}",
            f"  flash        {model.flash:,} B",
            f"  arena        {arena:,} B ({arena_how})",
        ]
        route = route_summary(model.report)
        if route:
            lines.append(f"  route        {route}")
        quality = quality_summary(model.report)
        if quality:
            lines.append(f"  quality      {quality}")
        if measured:
            lines.append(f"  stack        {int(measured.get('stack_bytes', 0)):,} B used by Invoke")
            if measured.get("runtime") == "aot":  # one count for the whole generated code
                lines += layer_table(tflite)
                lines.append(aot_total(int(measured["instructions"]), core, config.board.f_cpu))
            else:
                lines += profile_table(tflite, measured, prepared.kernels, core, config.board.f_cpu)
        else:
            lines += layer_table(tflite)
    costs = [budget.ModelCost(m.name, m.flash, arenas[m.name]) for m in prepared.models]
    if costs:
        runtime_flash = int(probed.get("runtime_flash") or config.options.runtime_flash)
        runtime_ram = config.options.runtime_ram
        total = budget.Budget(
            sum(c.flash for c in costs) + runtime_flash,
            sum(c.arena for c in costs) + runtime_ram,
            config.board.max_flash,
            config.board.max_ram,
            runtime_flash,
            runtime_ram,
        )
        lines += [""] + budget.render_budget(total)
    return lines
