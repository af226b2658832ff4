"""Where the project's real test models live: `shared/models` beside the project.

They are public models with their provenance in `shared/models/SOURCES.md`;
the repository does not carry copies. `PIO_TINYML_SHARED_MODELS` points
elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_models_dir() -> Path:
    override = os.environ.get("PIO_TINYML_SHARED_MODELS")
    return Path(override) if override else REPO.parent / "shared" / "models"
