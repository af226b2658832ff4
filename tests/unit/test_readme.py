"""The README's options table is generated from options.py; the Quick start stays two commands.

To refresh the table after changing an option: python tests/unit/test_readme.py
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from platformio_plugin.options import render_options_table

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN, END = "<!-- options:begin -->", "<!-- options:end -->"
TABLE = re.compile(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), re.S)


def _with_table(text: str) -> str:
    table = render_options_table()
    return TABLE.sub(lambda _m: f"{BEGIN}\n{table}{END}", text, count=1)


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


def test_quick_start_is_demo_then_test() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the Quick start has no ```sh block"
    assert block.group(1).splitlines() == ["./scripts/demo", "./scripts/test"]


if __name__ == "__main__":
    update()
