"""Shared fixtures for the TFLM tests: where the pinned upstream sources are, if anywhere."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import pytest

TFLM_DIR = "tflite-micro-90b983c2b3f1480642e040bbd2ddb37b998f3424"


def _sources_root() -> Optional[Path]:
    candidates = []
    if os.environ.get("PIO_TINYML_SOURCES"):
        candidates.append(Path(os.environ["PIO_TINYML_SOURCES"]))
    candidates.append(Path.home() / ".pio-tinyml" / "sources")
    for root in candidates:
        if (root / TFLM_DIR).is_dir():
            return root
    return None


@pytest.fixture(scope="session")
def sources_root() -> Path:
    """The local sources directory holding the pinned trees; skips the test when absent."""
    root = _sources_root()
    if root is None:
        pytest.skip(
            f"no local TFLM sources: put {TFLM_DIR}/ (and the other pinned trees, see "
            "CONTRIBUTING.md) under ~/.pio-tinyml/sources or point PIO_TINYML_SOURCES at them"
        )
    return root


@pytest.fixture(scope="session")
def tflm_root(sources_root: Path) -> Path:
    return sources_root / TFLM_DIR
