"""What `pio run -t tinyml-info` prints: per model, the layer table and the budget
against the board; and the one-line float vs int8 summary the build log shows."""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Optional

from ..analysis import budget, layers
from ..analysis.tflite_reader import TFLiteModel
from ..config import PluginConfig
from ..results import PreparedEnv
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
    for model, tflite in parsed_models(prepared, parsed):
        lines += [
            "",
            f"Model {model.name}  (from {model.source})",
            f"  fingerprint  {model.fingerprint[:16]}",
            f"  ops          {_op_counts(tflite)}",
            f"  MACs         {model.macs:,}",
            f"  flash        {model.flash:,} B",
            f"  arena        {model.arena:,} B (host measurement {model.arena_host:,} B)",
        ]
        quality = quality_summary(model.report)
        if quality:
            lines.append(f"  quality      {quality}")
        lines += layer_table(tflite)
    costs = [budget.ModelCost(m.name, m.flash, m.arena) for m in prepared.models]
    if costs:
        runtime_flash, runtime_ram = config.options.runtime_flash, config.options.runtime_ram
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
