from __future__ import annotations

import json
from pathlib import Path

import pytest

from platformio_plugin.errors import ConfigError
from platformio_plugin.tflm.cpu import choose_kernels

BOARDS = Path(__file__).resolve().parents[1] / "data" / "boards"


def board(name: str) -> dict[str, str]:
    build = json.loads((BOARDS / f"{name}.json").read_text())["build"]
    return {"board": name, "cpu": build.get("cpu", ""), "mcu": build.get("mcu", "")}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "kernels", "dsp", "warns"),
    [
        ("nucleo_f446re", "cmsis-nn", True, False),
        ("nano33ble", "cmsis-nn", True, False),
        ("teensy41", "cmsis-nn", True, False),
        ("pico", "cmsis-nn", False, True),
        ("esp32dev", "reference", False, False),
    ],
)
def test_auto_choice_from_board_manifest(name: str, kernels: str, dsp: bool, warns: bool) -> None:
    choice = choose_kernels(**board(name))
    assert (choice.kernels, choice.dsp, choice.warning is not None) == (kernels, dsp, warns)


@pytest.mark.unit
def test_summaries_and_warning_text() -> None:
    assert choose_kernels(**board("nucleo_f446re")).summary == "kernels: CMSIS-NN (cortex-m4, DSP)"
    esp = choose_kernels(**board("esp32dev"))
    assert esp.summary == "kernels: reference (esp32 is not an Arm Cortex-M)"
    warning = choose_kernels(**board("pico")).warning
    assert warning is not None
    assert warning.startswith("Warning! Board pico has a Cortex-M0+ without DSP/SIMD")


@pytest.mark.unit
def test_option_overrides() -> None:
    assert choose_kernels(**board("nucleo_f446re"), option="reference").kernels == "reference"
    assert choose_kernels(**board("pico"), option="cmsis-nn").kernels == "cmsis-nn"
    with pytest.raises(
        ConfigError, match="needs an Arm Cortex-M CPU, but board esp32dev has esp32"
    ):
        choose_kernels(**board("esp32dev"), option="cmsis-nn")
    with pytest.raises(ConfigError, match="'fast' is not a kernel choice"):
        choose_kernels(**board("pico"), option="fast")
