"""Where the tests find the pinned upstream source trees (TFLM, CMSIS-NN, ...).

In this order: `PIO_TINYML_SOURCES` if set; else `<repo>/../shared/tflm-sources` when it
holds the pinned TFLM tree; else `~/.pio-tinyml/sources`. The `sources_root` fixture
(tests/conftest.py) skips with `missing_reason()` when none holds it, and exports the root
as `PIO_TINYML_SOURCES` so that every `pio run` of the test finds the same trees.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]
ENV_VAR = "PIO_TINYML_SOURCES"
SHARED_SOURCES = REPO.parent / "shared" / "tflm-sources"
HOME_SOURCES = Path.home() / ".pio-tinyml" / "sources"


def tflm_folder() -> str:
    """The pinned TFLM tree's folder name, `tflite-micro-<commit>`."""
    from platformio_plugin.tflm.sources import TFLM_COMMIT

    return f"tflite-micro-{TFLM_COMMIT}"


def holds_tflm(root: Path) -> bool:
    return (root / tflm_folder() / "tensorflow" / "lite" / "micro").is_dir()


def find_sources_root() -> Optional[Path]:
    """The sources root the tests use, or None when the pinned TFLM tree is not there."""
    override = os.environ.get(ENV_VAR)
    if override:
        root = Path(override).expanduser()
        return root if holds_tflm(root) else None
    return next((root for root in (SHARED_SOURCES, HOME_SOURCES) if holds_tflm(root)), None)


def missing_reason() -> str:
    override = os.environ.get(ENV_VAR)
    where = (
        f"{ENV_VAR}={override} does not hold it"
        if override
        else f"neither {SHARED_SOURCES} nor {HOME_SOURCES} holds it and {ENV_VAR} is not set"
    )
    return (
        f"no pinned TFLM sources ({tflm_folder()}/): {where}; put the pinned trees "
        "(CONTRIBUTING.md) in one of these places"
    )
