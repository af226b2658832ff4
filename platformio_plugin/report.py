"""What `pio run -t tinyml-info` prints: per model, the layer table and the
budget against the board; and the HTML report it writes per model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from . import cache
from .analysis import budget, layers
from .analysis.tflite_reader import parse_tflite
from .config import PluginConfig
from .pipeline import PreparedEnv, PreparedModel, quality_summary
from .report_html import render_model_html


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape) or "-"


def layer_table(model: PreparedModel) -> list[str]:
    parsed = parse_tflite(Path(model.tflite).read_bytes(), model.source)
    rows = [f"  {'#':>3}  {'op':<28} {'input':<18} {'output':<18} {'MACs':>12}"]
    for layer in layers.layers(parsed):
        first = _shape(layer.inputs[0]) if layer.inputs else "-"
        rows.append(
            f"  {layer.index:>3}  {layer.op:<28} {first:<18} "
            f"{_shape(layer.output):<18} {layer.macs:>12,}"
        )
    return rows


def render_info(config: PluginConfig, prepared: PreparedEnv) -> list[str]:
    lines = [
        f"TinyML: env {config.env_name}, board {config.board.board_id or '-'} "
        f"({config.board.cpu or 'no cpu in manifest'}), kernels {prepared.kernels}"
    ]
    for model in prepared.models:
        parsed = parse_tflite(Path(model.tflite).read_bytes(), model.source)
        counts = Counter(layers.op_name(o) for o in parsed.operators)
        ops = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items()))
        lines += [
            "",
            f"Model {model.name}  (from {model.source})",
            f"  fingerprint  {model.fingerprint[:16]}",
            f"  ops          {ops}",
            f"  MACs         {model.macs:,}",
            f"  flash        {model.flash:,} B",
            f"  arena        {model.arena:,} B (host measurement {model.arena_host:,} B)",
        ]
        quality = quality_summary(model.report)
        if quality:
            lines.append(f"  quality      {quality}")
        lines += layer_table(model)
    costs = [budget.ModelCost(m.name, m.flash, m.arena) for m in prepared.models]
    if costs:
        total = budget.Budget(
            sum(c.flash for c in costs) + int(config.options["runtime_flash"]),
            sum(c.arena for c in costs) + int(config.options["runtime_ram"]),
            config.board.max_flash,
            config.board.max_ram,
            int(config.options["runtime_flash"]),
            int(config.options["runtime_ram"]),
        )
        lines += [""] + budget.render_budget(total)
    return lines


def report_path(config: PluginConfig, model_name: str) -> Path:
    """`.pio/build/<env>/tinyml/<model>.html`"""
    return config.generated_dir / f"{model_name}.html"


def write_reports(config: PluginConfig, prepared: PreparedEnv) -> list[Path]:
    """One HTML page per model (rewritten only when its content changed); pages of
    models the env no longer has are removed."""
    paths = []
    for model in prepared.models:
        page = render_model_html(
            model,
            parse_tflite(Path(model.tflite).read_bytes(), model.source),
            env_name=config.env_name,
            board=config.board,
            kernels=prepared.kernels,
            runtime_flash=int(config.options["runtime_flash"]),
            runtime_ram=int(config.options["runtime_ram"]),
        )
        path = report_path(config, model.name)
        cache.write_if_changed(path, page)
        paths.append(path)
    for stale in sorted(config.generated_dir.glob("*.html")):
        if stale not in paths:
            stale.unlink()
    return paths
