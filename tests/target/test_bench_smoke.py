"""Every benchmark runs end to end on a tiny input (`bench/run --quick`: hello_world, 1 run).

The benchmarks themselves never run in the test command; this only checks that they work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.target


@pytest.fixture(scope="module")
def quick_results(
    pio_ready: None,
    sources_root: Path,
    shared_models: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    from helpers.pio import pio_environ

    if not any((REPO / ".pio-core" / "tinyml").glob("converter-*/bin/python")):
        pytest.skip("no converter environment (python -m platformio_plugin setup-converter)")
    out = tmp_path_factory.mktemp("bench") / "out"
    environ = pio_environ({"PIO_TINYML_SHARED_MODELS": str(shared_models)})
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=REPO, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=1800, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert (out / "results.md").read_text().count("|") > 10
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def test_every_benchmark_ran(quick_results: dict[str, Any]) -> None:
    assert set(quick_results["benchmarks"]) == {
        "rebuild",
        "convert",
        "first-build",
        "firmware",
        "probe",
    }
    assert quick_results["quick"] is True
    assert quick_results["machine"]["cores"]


def test_timings_are_ratios_of_one_run(quick_results: dict[str, Any]) -> None:
    for name in ("rebuild", "convert"):
        timing = quick_results["benchmarks"][name]["timing"]
        assert timing["runs"] == 1
        assert timing["a_median_s"] > 0 and timing["b_median_s"] > 0
        assert timing["ratio"] > 0
    for case in ("first", "clean", "again"):
        timing = quick_results["benchmarks"]["probe"][case]
        assert timing["runs"] == 1 and timing["a_median_s"] > 0 and timing["b_median_s"] > 0
    first = quick_results["benchmarks"]["first-build"]
    assert first["plugin"][0]["tflm_objects"] > 0
    assert first["whole_tree"][0]["compiled"] == 20


def test_firmware_counts_hello_world(quick_results: dict[str, Any]) -> None:
    firmware = quick_results["benchmarks"]["firmware"]
    row = firmware["envs"]["m4-cmsis-nn"]["models"]["hello_world_int8"]
    # hello_world is one small fully connected stack: thousands, not millions, of instructions
    assert 500 < row["instructions"] < 100_000
    # the build's probe counted the same inference (Invoke alone) on its emulated core
    assert 0.8 * row["instructions"] < row["probe_instructions"] < 1.2 * row["instructions"]
    assert 0 < row["arena_used"] <= row["arena_size"]
    assert row["sizes"]["text"] > 0
    assert firmware["models"]["hello_world_int8"]["macs"] > 0


def test_firmware_compares_aot_on_hello_world(quick_results: dict[str, Any]) -> None:
    firmware = quick_results["benchmarks"]["firmware"]
    row = firmware["aot"]["hello_world_int8"]["M4"]
    assert row["aot"]["flash"] > 0 and row["aot"]["stack"] > 0
    assert row["interpreter"]["ram"] > row["interpreter"]["stack"] > 0
    assert row["ratio"]["instructions"] > 0 and row["ratio"]["flash_net"] is not None
