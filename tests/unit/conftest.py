from __future__ import annotations

from pathlib import Path

import pytest
from helpers.shared import shared_models_dir


@pytest.fixture(scope="session")
def shared_models() -> Path:
    path = shared_models_dir()
    if not (path / "SOURCES.md").is_file():
        pytest.fail(f"the shared test models are missing: {path} (set PIO_TINYML_SHARED_MODELS)")
    return path
