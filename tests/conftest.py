"""Fixtures shared by all tests. Helpers live in tests/helpers (`from helpers.pio import ...`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# `helpers` is importable from every test module, whether or not tests/ is a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers.pio import PIO  # noqa: E402
from helpers.shared import shared_models_dir  # noqa: E402


@pytest.fixture(scope="session")
def pio_ready() -> None:
    """Skip unless scripts/bootstrap has made .venv/bin/pio and the toolchain is installed."""
    missing = [
        what
        for what, ok in (
            (".venv/bin/pio (run ./scripts/bootstrap)", PIO.is_file()),
            ("qemu-system-arm", shutil.which("qemu-system-arm") is not None),
            ("arm-none-eabi-gcc", shutil.which("arm-none-eabi-gcc") is not None),
        )
        if not ok
    ]
    if missing:
        pytest.skip("missing: " + ", ".join(missing))


@pytest.fixture(scope="session")
def shared_models() -> Path:
    """The real public models beside the project (shared/models, see its SOURCES.md)."""
    path = shared_models_dir()
    if not (path / "SOURCES.md").is_file():
        pytest.skip(f"the shared test models are not at {path}: set PIO_TINYML_SHARED_MODELS")
    return path
