"""Fixtures for conversion tests: the converter environment and generated test data.

Tests run in the project venv (no torch there). The converter environment is
made by the product's own ``ensure_converter_python`` under
``$PLATFORMIO_CORE_DIR`` (the test command points it at the repo's
``.pio-core``); data that needs numpy/torch is made by running
``tests/data/convert/make_data.py`` with the converter's python.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .support import DATA, MODELS, REPO, core_dir


@pytest.fixture(scope="session")
def converter_python() -> Path:
    sys.path.insert(0, str(REPO))
    from platformio_plugin.convert.environment import ensure_converter_python

    return ensure_converter_python(core_dir(), print)


@pytest.fixture(scope="session")
def data(converter_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("convert-data")
    subprocess.run([str(converter_python), str(DATA / "make_data.py"), str(out)], check=True)
    return out


@pytest.fixture(scope="session")
def models() -> Path:
    if not MODELS.is_dir():
        pytest.skip(f"shared models not found at {MODELS}")
    return MODELS
