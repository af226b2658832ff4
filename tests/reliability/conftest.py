"""Data for the reliability tests, made once per session with the converter's python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from convert.support import DATA, core_dir
from helpers.pio import REPO_ROOT

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def converter_python() -> Path:
    sys.path.insert(0, str(REPO_ROOT))
    from platformio_plugin.convert.environment import ensure_converter_python

    return ensure_converter_python(core_dir(), print)


@pytest.fixture(scope="session")
def rdata(
    converter_python: Path, shared_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """tests/data/convert's small CNN (.pth, .pt2, class, calibration) and broken calibration
    files, plus make_models.py's pickles with payloads and a model with an unsupported op.
    A payload that runs creates `pickle_payload_ran` here."""
    out = tmp_path_factory.mktemp("reliability-data")
    python = str(converter_python)
    subprocess.run([python, str(DATA / "make_data.py"), str(out), "cnn", "bad"], check=True)
    hello = shared_models / "tflm_hello_world" / "hello_world_int8.tflite"
    marker = out / "pickle_payload_ran"
    subprocess.run(
        [python, str(HERE / "make_models.py"), str(out / "cnn.pt2"), str(hello), str(out),
         str(marker)],
        check=True,
    )  # fmt: skip
    assert not marker.exists()
    return out
