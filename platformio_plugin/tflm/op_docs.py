"""The README's supported-op table, generated from the op table: every op a model may use,
the resolver method it is registered with, and the kernel it runs on a Cortex-M build."""

from __future__ import annotations

from .op_table import BUILTIN_OPS, CUSTOM_OPS
from .selection import has_cmsis_nn_kernel

BEGIN, END = "<!-- ops:begin -->", "<!-- ops:end -->"


def render_ops_table() -> str:
    rows = ["| Op | Resolver method | Kernel on Arm Cortex-M |", "|---|---|---|"]
    for name in sorted(BUILTIN_OPS):
        kernel = "CMSIS-NN" if has_cmsis_nn_kernel(name) else "reference"
        rows.append(f"| `{name}` | `{BUILTIN_OPS[name].method}` | {kernel} |")
    for name in sorted(CUSTOM_OPS):
        op = CUSTOM_OPS[name]
        needs = f" (needs {', '.join(op.third_party)}, not pinned)" if op.third_party else ""
        rows.append(f"| `{name}` (custom) | `{op.method}` | reference{needs} |")
    return "\n".join(rows) + "\n"
