"""The README's options and op tables are generated from the code; the Quick start stays two
commands.

To refresh the tables after changing an option or the op table: python tests/unit/test_readme.py
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from platformio_plugin.options import render_options_table
from platformio_plugin.tflm import op_docs

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN, END = "<!-- options:begin -->", "<!-- options:end -->"
TABLE = re.compile(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), re.S)


OPS = re.compile(re.escape(op_docs.BEGIN) + r"\n(.*?)" + re.escape(op_docs.END), re.S)


def _with_table(text: str) -> str:
    table = render_options_table()
    text = TABLE.sub(lambda _m: f"{BEGIN}\n{table}{END}", text, count=1)
    ops = op_docs.render_ops_table()
    return OPS.sub(lambda _m: f"{op_docs.BEGIN}\n{ops}{op_docs.END}", text, count=1)


def update() -> None:
    """Rewrite the README's options table from options.py."""
    README.write_text(_with_table(README.read_text(encoding="utf-8")), encoding="utf-8")


def test_options_table_matches_options_py() -> None:
    text = README.read_text(encoding="utf-8")
    found = TABLE.search(text)
    assert found is not None, f"README.md lacks the {BEGIN} ... {END} markers"
    assert found.group(1) == render_options_table(), (
        "README.md's options table differs from platformio_plugin/options.py; refresh it with: "
        "python tests/unit/test_readme.py"
    )


def test_ops_table_matches_op_table_py() -> None:
    """The unsupported-op error points here: every op the plugin accepts, none it refuses."""
    found = OPS.search(README.read_text(encoding="utf-8"))
    assert found is not None, f"README.md lacks the {op_docs.BEGIN} ... {op_docs.END} markers"
    assert found.group(1) == op_docs.render_ops_table(), (
        "README.md's supported-op table differs from platformio_plugin/tflm/op_table.py; "
        "refresh it with: python tests/unit/test_readme.py"
    )
    assert "| `CONV_2D` | `AddConv2D` | CMSIS-NN |" in found.group(1)


def test_quick_start_is_demo_then_test() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the Quick start has no ```sh block"
    assert block.group(1).splitlines() == ["./scripts/demo", "./scripts/test"]


if __name__ == "__main__":
    update()
