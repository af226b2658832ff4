"""The line protocol of platforms/testing/line_protocol_runner.py."""

from __future__ import annotations

import sys

import pytest
from helpers.pio import PLATFORMS_DIR

pytestmark = pytest.mark.unit

sys.path.insert(0, str(PLATFORMS_DIR / "testing"))
line_protocol_runner = pytest.importorskip("line_protocol_runner")
STATUS = pytest.importorskip("platformio.test.result").TestStatus


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PASS add_int8\n", (STATUS.PASSED, "add_int8", None)),
        (
            "FAIL conv: output[3] = 7, expected 9",
            (STATUS.FAILED, "conv", "output[3] = 7, expected 9"),
        ),
        ("SKIP dsp: no DSP extension\r\n", (STATUS.SKIPPED, "dsp", "no DSP extension")),
        ("Hello from pio-tinyml!", None),
        ("PASSED everything", None),
        ("fail lower case: no", None),
    ],
)
def test_parse_line(line: str, expected: object) -> None:
    assert line_protocol_runner.parse_line(line) == expected
