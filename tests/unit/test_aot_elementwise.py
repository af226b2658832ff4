"""The ahead-of-time lookup tables of LOGISTIC, TANH, QUANTIZE and DEQUANTIZE equal TFLite
Micro's own int8 reference kernels (built for the host from the pinned trees) on every int8
input, for 472 input quantizations: random scales over four decades and zero points, and
power-of-two scales at the extreme zero points."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import sources

from platformio_plugin.aot import quant
from platformio_plugin.aot.ops import elementwise

pytestmark = pytest.mark.unit

HARNESS = Path(__file__).resolve().parents[1] / "data" / "aot" / "elementwise_reference.cc"
Case = tuple[str, float, int, float, int]


def _cases() -> list[Case]:
    rng = random.Random(7)
    cases: list[Case] = []
    for i in range(400):
        op = ("LOGISTIC", "TANH", "QUANTIZE", "DEQUANTIZE")[i % 4]
        scale, out_scale = (quant.f32(10 ** rng.uniform(-3.5, 0.5)) for _ in range(2))
        cases.append((op, scale, rng.randint(-128, 127), out_scale, rng.randint(-128, 127)))
    for op in ("LOGISTIC", "TANH"):
        for k in range(12):
            for zero_point in (-128, 0, 127):
                cases.append((op, 2.0**-k, zero_point, 1 / 256, -128))
    return cases


@pytest.fixture(scope="module")
def reference(sources_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("g++")
    assert compiler, "the host C++ compiler g++ is needed to build TFLM's reference kernels"
    tflm = sources_root / sources.tflm_folder()
    include = [tflm] + [next(sources_root.glob(pattern)) for pattern in ("gemmlowp-*", "ruy-*")]
    internal = tflm / "tensorflow" / "lite" / "kernels" / "internal"
    binary = tmp_path_factory.mktemp("elementwise") / "reference"
    subprocess.run(
        [compiler, "-std=c++17", "-O1", *(f"-I{p}" for p in include), str(HARNESS),
         str(internal / "quantization_util.cc"), str(internal / "common.cc"), "-o", str(binary)],
        check=True,
    )  # fmt: skip
    return binary


def _python_table(case: Case) -> tuple[int, ...]:
    op, scale, zero_point, out_scale, out_zero_point = case
    if op == "LOGISTIC":
        return elementwise.logistic_table(scale, zero_point)
    if op == "TANH":
        return elementwise.tanh_table(scale, zero_point)
    if op == "QUANTIZE":
        return elementwise.requantize_table(scale, zero_point, out_scale, out_zero_point)
    return elementwise.dequantize_table(scale, zero_point)


def test_tables_equal_tflm_reference_kernels(reference: Path) -> None:
    cases = _cases()
    lines = "".join(f"{op} {s.hex()} {z} {os.hex()} {oz}\n" for op, s, z, os, oz in cases)
    out = subprocess.run(
        [str(reference)], input=lines, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(out) == len(cases)
    mismatches = []
    for case, line in zip(cases, out):
        expected = tuple(int(v) for v in line.split())
        got = _python_table(case)
        assert len(expected) == 256
        if got != expected:
            first = next(i for i in range(256) if got[i] != expected[i])
            mismatches.append(f"{case}: input {first - 128} {got[first]} != {expected[first]}")
    assert not mismatches, "\n".join(mismatches[:10])


def test_saturating_inputs_reach_both_ends() -> None:
    # a wide input range: the most negative inputs give -128, the most positive 127
    assert elementwise.logistic_table(0.5, 0)[0] == -128
    assert elementwise.logistic_table(0.5, 0)[-1] == 127
    assert elementwise.tanh_table(0.5, 0)[0] == -128
    assert elementwise.tanh_table(0.5, 0)[-1] == 127
    # zero in: logistic gives one half (0 with zero point -128), tanh gives 0
    assert elementwise.logistic_table(0.05, 3)[3 + 128] == 0
    assert elementwise.tanh_table(0.05, 3)[3 + 128] == 0
