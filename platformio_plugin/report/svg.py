"""The picture of the arena on the model's HTML page: bytes of activations alive per
layer as bars, kArenaSize and TFLM's tensor plan as lines. Inline SVG, no script."""

from __future__ import annotations

import html
import math
from typing import Optional, Sequence


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nice_step(top: float) -> int:
    """A round tick spacing giving 4-6 ticks up to `top`."""
    raw = max(top / 5, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return max(int(factor * power), 1)
    return int(10 * power)


def arena_svg(
    use: Sequence[int], ops: Sequence[str], arena_size: int, plan: Optional[int] = None
) -> str:
    """Bars of bytes alive per layer, kArenaSize (and TFLM's tensor plan) as lines."""
    width, height = 1040, 340
    left, right, top, bottom = 78, 16, 30, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(use, default=0)
    y_max = max(arena_size, peak, plan or 0, 1) * 1.08
    unit = 1024 if y_max >= 4096 else 1  # ticks on whole KB (or bytes for tiny models)
    step = _nice_step(y_max / unit) * unit

    def y(value: float) -> float:
        return top + plot_h - value / y_max * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Arena use across the layers" class="arena" '
        f'data-peak="{peak}" data-arena="{arena_size}" font-family="system-ui, sans-serif" '
        f'font-size="12">'
    ]
    for tick in range(0, int(y_max) + 1, step):
        ty = y(tick)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="#e6e9ef"/><text x="{left - 8}" y="{ty + 4:.1f}" text-anchor="end" '
            f'fill="#5d6676">{tick // unit:,} {"KB" if unit > 1 else "B"}</text>'
        )
    count = max(len(use), 1)
    slot = plot_w / count
    bar_w = max(slot * 0.72, 1.0)
    label_every = math.ceil(count / 32)
    peak_at = use.index(peak) if use else -1
    for i, (value, op) in enumerate(zip(use, ops)):
        x = left + i * slot + (slot - bar_w) / 2
        bar_top = min(y(value), top + plot_h - 1.5) if value else y(value)  # a sliver stays visible
        colour = "#e0762b" if i == peak_at else "#2f6fdf"
        out.append(
            f'<rect class="layer" data-layer="{i}" data-bytes="{value}" x="{x:.2f}" '
            f'y="{bar_top:.2f}" width="{bar_w:.2f}" height="{top + plot_h - bar_top:.2f}" '
            f'fill="{colour}"><title>#{i} {_e(op)}: {value:,} B of activations alive</title></rect>'
        )
        if i % label_every == 0 or i == count - 1:
            out.append(
                f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle" fill="#5d6676">{i}</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="#9aa3b2"/>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'fill="#5d6676">layer (operator index)</text>'
    )
    if peak_at >= 0:
        px = left + peak_at * slot + slot / 2
        anchor = "start" if peak_at < count / 2 else "end"
        dx = -bar_w / 2 if anchor == "start" else bar_w / 2
        out.append(
            f'<text class="peak" x="{px + dx:.1f}" y="{y(peak) - 7:.1f}" text-anchor="{anchor}" '
            f'fill="#b4541a" font-weight="600">peak {peak:,} B at #{peak_at} '
            f"{_e(ops[peak_at])}</text>"
        )
    lines = [(arena_size, f"kArenaSize {arena_size:,} B", "#c62828", "")]
    if plan:
        lines.append((plan, f"TFLM tensor plan {plan:,} B", "#6b7280", ' stroke-dasharray="6 4"'))
    for value, text, colour, dash in lines:
        ly = y(value)
        out.append(
            f'<line class="limit" data-bytes="{value}" x1="{left}" x2="{width - right}" '
            f'y1="{ly:.1f}" y2="{ly:.1f}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{width - right - 4}" y="{ly - 6:.1f}" text-anchor="end" fill="{colour}" '
            f'font-weight="600">{_e(text)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
