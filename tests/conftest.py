"""Fixtures shared by all tests. Helpers live in tests/helpers (`from helpers.pio import ...`).

Tiers are folders, and each test gets its folder's marker (declared in pyproject.toml):

  unit/         fast, no ML libraries, no `pio run`
  golden/       generated files compared byte for byte with committed ones
  convert/      real conversions in the converter environment
  integration/  real `pio run` / `pio test` on the local dev-platforms (platforms/)
  target/       TFLM built from the pinned sources, run on emulated cores (QEMU) or the host

A test marked with another tier's marker than its folder's is a collection error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
# `helpers` is importable from every test module, whether or not tests/ is a package.
sys.path.insert(0, str(HERE))

from helpers import sources  # noqa: E402
from helpers.convert import DATA, core_dir  # noqa: E402
from helpers.pio import PIO  # noqa: E402
from helpers.shared import shared_models_dir  # noqa: E402

TIERS = ("unit", "golden", "convert", "integration", "target", "real")
REAL_PLATFORMS = "PIO_TINYML_REAL_PLATFORMS"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            tier = item.path.resolve().relative_to(HERE).parts[0]
        except ValueError:
            continue  # not below tests/
        if tier not in TIERS:
            raise pytest.UsageError(
                f"{item.nodeid}: tests live in a tier folder, one of tests/{{{','.join(TIERS)}}}/"
            )
        others = sorted({m.name for m in item.iter_markers() if m.name in TIERS} - {tier})
        if others:
            raise pytest.UsageError(
                f"{item.nodeid} is marked {', '.join(others)} but lives in tests/{tier}/"
            )
        item.add_marker(getattr(pytest.mark, tier))
    # The real-platform tier needs a folder that is never committed (CONTRIBUTING.md): without
    # it, its tests are not selected (the header says so) rather than skipped one by one.
    if not os.environ.get(REAL_PLATFORMS):
        real = [item for item in items if item.get_closest_marker("real") is not None]
        if real:
            config.hook.pytest_deselected(items=real)
            items[:] = [item for item in items if item.get_closest_marker("real") is None]


def pytest_report_header(config: pytest.Config) -> str:  # noqa: ARG001 (pytest's signature)
    if os.environ.get(REAL_PLATFORMS):
        return f"real-platform tier (tests/real): {os.environ[REAL_PLATFORMS]}"
    return (
        f"real-platform tier (tests/real): not selected, {REAL_PLATFORMS} is not set "
        "(see CONTRIBUTING.md)"
    )


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


@pytest.fixture(scope="session")
def sources_root() -> Iterator[Path]:
    """The local sources directory holding the pinned trees (helpers/sources.py says where it
    is looked for); skips the test when absent. Exported as PIO_TINYML_SOURCES for the
    session, so that the builds the tests start use the same trees."""
    root = sources.find_sources_root()
    if root is None:
        pytest.skip(sources.missing_reason())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(sources.ENV_VAR, str(root))
        yield root


@pytest.fixture(scope="session")
def tflm_root(sources_root: Path) -> Path:
    return sources_root / sources.tflm_folder()


@pytest.fixture(scope="session")
def converter_python() -> Path:
    """The converter environment's python, made by the product's own ensure_converter_python
    under the core dir (scripts/test makes it before the tests, with network)."""
    from platformio_plugin.convert.environment import ensure_converter_python

    return ensure_converter_python(core_dir(), print)


@pytest.fixture(scope="session")
def convert_data(converter_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Everything tests/data/convert/make_data.py makes (digits inputs, small CNN, bad
    calibration files, unsupported ops, a pickle with a payload)."""
    out = tmp_path_factory.mktemp("convert-data")
    subprocess.run(
        [str(converter_python), str(DATA / "make_data.py"), str(out)], check=True, timeout=900
    )
    return out


@pytest.fixture(scope="session")
def rdata(
    convert_data: Path,
    converter_python: Path,
    shared_models: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """tests/data/convert's small CNN (.pth, .pt, .pt2, class, calibration) and broken
    calibration files (copied from convert_data: made once per run), plus make_models.py's
    pickles with payloads and a model with an unsupported op. A payload that runs creates
    `pickle_payload_ran` here."""
    out = tmp_path_factory.mktemp("reliability-data")
    for made in sorted(convert_data.iterdir()):
        if made.name.startswith(("cnn", "bad_")):
            shutil.copyfile(made, out / made.name)
    (out / "empty_dir").mkdir()
    hello = shared_models / "tflm_hello_world" / "hello_world_int8.tflite"
    marker = out / "pickle_payload_ran"
    subprocess.run(
        [str(converter_python), str(DATA / "make_models.py"), str(out / "cnn.pt2"), str(hello),
         str(out), str(marker)],
        check=True, timeout=900,
    )  # fmt: skip
    assert not marker.exists()
    return out
