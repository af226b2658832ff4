"""The HTML page `pio run -t tinyml-info` writes per model: layers, arena use
across the layers, flash and RAM against the board, float vs int8.

Pure: data in, text out. One self-contained file (inline CSS and SVG, no
script, no external asset) that is byte-identical for identical input.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from typing import Any, Mapping, Optional, Sequence

from .. import __version__
from ..analysis import layers as layer_view
from ..analysis.lifetimes import arena_use
from ..analysis.tflite_reader import TFLiteModel
from ..config import BoardSpec
from ..results import PreparedModel
from ..tflm.selection import kernel_of
from .svg import arena_svg
from .text import duration, route_summary

TEMPLATE = Path(__file__).parent / "templates" / "model_report.html.tmpl"


# ---------------------------------------------------------------- formatting


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _shape(shape: Sequence[int]) -> str:
    return "\u00d7".join(str(d) for d in shape) or "scalar"


def _bytes(value: int) -> str:
    return f"{value:,} B"


def _kib(value: float) -> str:
    return f"{value / 1024:,.1f} KB" if value >= 1024 else f"{int(value):,} B"


def _card(label: str, value: str, sub: str = "") -> str:
    sub_html = f'<div class="sub">{_e(sub)}</div>' if sub else ""
    return (
        f'<div class="card"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div>{sub_html}</div>'
    )


def _budget_row(label: str, parts: Sequence[tuple[str, int]], total: int, setting: str) -> str:
    used = sum(size for _, size in parts)
    what = " + ".join(f"{name} {size:,}" for name, size in parts)
    if not total:
        return (
            f'<div class="name">{_e(label)}</div>'
            f'<div class="text">used <b>{used:,} bytes</b> ({_e(what)}); '
            f"the board declares no <code>{_e(setting)}</code>, nothing to compare with</div>"
        )
    ratio = used / total
    segments = "".join(
        f'<div class="seg {"model" if i == 0 else "runtime"}" '
        f'style="width:{min(size / total, 1.0) * 100:.3f}%" title="{_e(name)}: {size:,} B"></div>'
        for i, (name, size) in enumerate(parts)
    )
    over = " over" if used > total else ""
    return (
        f'<div class="name">{_e(label)}</div>'
        f'<div class="track{over}" data-used="{used}" data-total="{total}">{segments}</div>'
        f'<div class="text"><b>{ratio * 100:.1f} %</b> (used {used:,} bytes from {total:,} bytes: '
        f"{_e(what)}; board <code>{_e(setting)}</code>)</div>"
    )


def _budget(
    model: PreparedModel, board: BoardSpec, runtime_flash: int, runtime_ram: int, arena: int
) -> str:
    flash = _budget_row(
        "Flash",
        [("model", model.flash), ("runtime", runtime_flash)],
        board.max_flash,
        "upload.maximum_size",
    )
    ram = _budget_row(
        "RAM",
        [("arena", arena), ("runtime", runtime_ram)],
        board.max_ram,
        "upload.maximum_ram_size",
    )
    legend = (
        '<div class="legend"><span><i style="background:var(--model)"></i>'
        "this model (flash: model data, RAM: kArenaSize)</span>"
        '<span><i style="background:var(--runtime)"></i>TFLM runtime estimate '
        "(<code>custom_tinyml_runtime_flash</code> / <code>custom_tinyml_runtime_ram</code>)"
        "</span></div>"
    )
    return f'<div class="budget">{flash}{ram}</div>{legend}'


def _quality(report: Mapping[str, Any], source: str) -> str:
    if report.get("compare_samples") is None:
        reason = (
            f"{source} was taken as is (an int8 .tflite): there is no float model to compare with."
            if str(report.get("format", "")) == ".tflite" or source.endswith(".tflite")
            else "the conversion recorded no float vs int8 comparison."
        )
        return f'<p class="na quality-na">Not available: {_e(reason)}</p>'

    def pct(key: str) -> Optional[str]:
        value = report.get(key)
        return None if value is None else f"{float(value):.1f} %"

    def num(key: str) -> Optional[str]:
        value = report.get(key)
        return None if value is None else f"{float(value):.4g}"

    labelled = report.get("accuracy_float") is not None
    rows: list[tuple[str, Optional[str]]] = [
        ("held-out samples compared", f"{int(report['compare_samples']):,}"),
        ("top-1 agreement (int8 picks the class float picks)", pct("top1_agreement")),
        ("max |float - int8| of an output", num("max_abs_err")),
        ("mean |float - int8|", num("mean_abs_err")),
        ("accuracy float", pct("accuracy_float") if labelled else None),
        ("accuracy int8", pct("accuracy_int8") if labelled else None),
        ("calibration samples", f"{int(report['calibration_samples']):,}"
         if report.get("calibration_samples") is not None else None),
    ]  # fmt: skip
    body = "".join(
        f'<tr><td>{_e(label)}</td><td class="num r">{_e(value)}</td></tr>'
        if value is not None
        else f'<tr><td>{_e(label)}</td><td class="na r">not available</td></tr>'
        for label, value in rows
    )
    note = (
        ""
        if labelled
        else '<p class="note">Accuracy needs labels: give <code>models/&lt;model&gt;'
        ".validation.npz</code> (arrays x and y).</p>"
    )
    return f'<table class="quality"><tbody>{body}</tbody></table>{note}'


def _layer_table(
    rows: Sequence[layer_view.Layer],
    use: Sequence[int],
    kernels: str,
    counted: Optional[Mapping[int, int]] = None,
) -> str:
    """The layers; with ``counted`` (instructions per layer on the emulated core) also the
    instructions, instructions per MAC and share of each."""
    body = []
    total_count = sum(counted.values()) if counted else 0
    for row, alive in zip(rows, use):
        extra = ""
        if counted is not None:
            n = counted.get(row.index, 0)
            per_mac = f"{n / row.macs:.2f}" if row.macs else "-"
            share = 100 * n / total_count if total_count else 0.0
            extra = (
                f'<td class="num r">{n:,}</td><td class="num r">{per_mac}</td>'
                f'<td class="num r">{share:.1f} %</td>'
            )
        kernel = kernel_of(row.op, kernels)
        css = "cmsis" if kernel == "CMSIS-NN" else "ref"
        inputs = ", ".join(_shape(s) for s in row.inputs) or "-"
        body.append(
            f'<tr class="layer"><td class="num r">{row.index}</td>'
            f"<td><code>{_e(row.op)}</code></td>"
            f'<td class="shape">{_e(inputs)}</td><td class="shape">{_e(_shape(row.output))}</td>'
            f'<td class="num r" data-macs="{row.macs}">{row.macs:,}</td>'
            f'<td class="num r">{alive:,}</td>'
            f'<td><span class="kernel {css}">{kernel}</span></td>{extra}</tr>'
        )
    total = sum(r.macs for r in rows)
    head_extra = foot_extra = ""
    if counted is not None:
        head_extra = (
            '<th class="r">instructions</th><th class="r">per MAC</th><th class="r">share</th>'
        )
        foot_extra = f'<td class="num r">{total_count:,}</td><td></td><td></td>'
    return (
        '<table class="layers"><thead><tr><th class="r">#</th><th>op</th><th>input</th>'
        '<th>output</th><th class="r">MACs</th><th class="r">activations alive (B)</th>'
        f"<th>kernel</th>{head_extra}</tr></thead><tbody>"
        + "".join(body)
        + f"</tbody><tfoot><tr><td></td><td>{len(rows)} layers</td><td></td><td></td>"
        f'<td class="num r" data-total-macs="{total}">{total:,}</td>'
        f'<td class="num r">peak {max(use, default=0):,}</td><td></td>{foot_extra}</tr></tfoot>'
        "</table>"
    )


# ---------------------------------------------------------------- the page


def _counted(measured: Optional[Mapping[str, Any]]) -> Optional[dict[int, int]]:
    if not measured or measured.get("runtime") == "aot":  # no count per layer
        return None
    return {int(p["index"]): int(p["instructions"]) for p in measured.get("profile", [])}


def _arena_card(model: PreparedModel, measured: Optional[Mapping[str, Any]], core: str) -> str:
    if measured and measured.get("runtime") == "aot":
        arena = int(measured["arena"])
        return _card("kArenaSize", _kib(arena), f"the plan, checked on the emulated {core}")
    if measured:
        arena = int(measured["arena"])
        return _card("kArenaSize", _kib(arena), f"measured on the emulated {core}")
    return _card("kArenaSize", _kib(model.arena), f"host estimate {model.arena_host:,} B")


def render_model_html(
    model: PreparedModel,
    parsed: TFLiteModel,
    *,
    env_name: str,
    board: BoardSpec,
    kernels: str,
    runtime_flash: int,
    runtime_ram: int,
    measured: Optional[Mapping[str, Any]] = None,
    core: str = "",
) -> str:
    """The report page of one model of an env; ``measured``: what the build's probe measured
    for it on the emulated ``core`` (arena, instructions per layer), when it ran."""
    rows = layer_view.layers(parsed)
    use = arena_use(parsed)
    arena = int(measured["arena"]) if measured else model.arena
    ops = [r.op for r in rows]
    kernel_name = "CMSIS-NN" if kernels == "cmsis-nn" else "reference"
    on_cmsis = sum(1 for op in ops if kernel_of(op, kernels) == "CMSIS-NN")
    breakdown = model.report.get("arena_breakdown")
    plan = (
        int(breakdown["head"]) if isinstance(breakdown, Mapping) and "head" in breakdown else None
    )
    peak = max(use, default=0)
    board_text = board.board_id or "no board"
    if board.cpu:
        board_text += f" ({board.cpu})"
    route = route_summary(model.report)
    route_html = f" \u00b7 converted by {_e(route)}" if route else ""
    cards = [
        _card("layers", f"{len(rows)}", f"{len(set(ops))} kinds of op"),
        _card("MACs per inference", f"{model.macs / 1e6:,.2f} M", f"{model.macs:,}"),
        _card("flash (model data)", _kib(model.flash), _bytes(model.flash)),
        _arena_card(model, measured, core),
        _card("activation peak", _kib(peak), _bytes(peak)),
        _card("kernels", kernel_name, f"{on_cmsis} of {len(rows)} layers on CMSIS-NN"),
    ]
    arena_note = (
        "Each bar is the sum of the activation tensors (inputs, outputs and intermediates, "
        "not the weights, which stay in flash) alive while that layer runs: from the layer "
        "that writes a tensor to the last one that reads it. kArenaSize also holds TFLM's "
        "own records and the kernels' scratch buffers."
    )
    if plan:
        arena_note += " The dashed line: the tensor plan TFLM's memory planner made on the host."
    layers_note = (
        f"Input shapes are the layer's activations (weights left out). Kernel: {kernel_name} "
        f"for this env; "
        + (
            "ops without a CMSIS-NN kernel run TFLM's reference kernel."
            if kernels == "cmsis-nn"
            else "CMSIS-NN is used on Arm Cortex-M boards (custom_tinyml_kernels)."
        )
    )
    if measured:
        total = int(measured.get("instructions", 0))
        layers_note += (
            f" Instructions: counted by the build on the emulated {core} with the firmware's "
            f"own library, {total:,} per inference"
            + (
                f", at least {duration(total / board.f_cpu)} at {board.f_cpu / 1e6:g} MHz "
                "(one instruction per cycle: a lower bound)."
                if board.f_cpu
                else "."
            )
        )
    values = {
        "generator": f"pio-tinyml {__version__}",
        "title": _e(f"{model.name} - pio-tinyml"),
        "name": _e(model.name),
        "lead": (
            f"from <code>{_e(model.source)}</code> \u00b7 env <code>{_e(env_name)}</code> "
            f"\u00b7 board {_e(board_text)} \u00b7 kernels {_e(kernel_name)}{route_html}"
        ),
        "cards": "\n".join(cards),
        "budget": _budget(model, board, runtime_flash, runtime_ram, arena),
        "arena_note": _e(arena_note),
        "arena_svg": arena_svg(use, ops, arena, plan),
        "quality": _quality(model.report, model.source),
        "layers_note": _e(layers_note),
        "layer_table": _layer_table(rows, use, kernels, _counted(measured)),
        "footer": _e(
            f"pio-tinyml {__version__} \u00b7 model fingerprint {model.fingerprint[:16]} "
            f"\u00b7 written by pio run -t tinyml-info"
        ),
    }
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(values)
