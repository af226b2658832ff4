"""Faults of the machine rather than of the model: a read-only build folder and a converter
environment that cannot be installed, both through real `pio run`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from helpers.host_project import assert_refused, env_section, make_project, run, state_files
from helpers.pio import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("pio_ready")]


def _project(root: Path, shared: Path) -> Path:
    (root / "models").mkdir(parents=True)
    shutil.copyfile(shared / "tflm_hello_world/hello_world_int8.tflite", root / "models/net.tflite")
    return make_project(root, [env_section("host")])


@pytest.fixture()
def immutable() -> Iterator[list[Path]]:
    """Folders made immutable with `chattr +i` (enforced for root too), undone afterwards."""
    folders: list[Path] = []
    yield folders
    for folder in reversed(folders):
        subprocess.run(["chattr", "-i", str(folder)], check=False, timeout=60)


def test_read_only_build_folder(tmp_path: Path, shared_models: Path, immutable: list[Path]) -> None:
    project = _project(tmp_path / "p", shared_models)
    assert run(project, "host").returncode == 0
    build = project / ".pio/build"
    cache = project / ".pio/tinyml-cache"
    for folder in (cache, build / "host/tinyml", build / "host/tinyml/tinyml"):
        done = subprocess.run(
            ["chattr", "+i", str(folder)], capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")
        immutable.append(folder)
    probe = cache / "probe"
    with pytest.raises(PermissionError):
        probe.write_text("x")  # root cannot write there either
    before = state_files(project)
    shutil.copyfile(shared_models / "tflm_micro_speech/micro_speech_quantized.tflite",
                    project / "models/net.tflite")  # fmt: skip
    proc = run(project, "host")
    assert_refused(proc, "Cannot write", ".pio/tinyml-cache", "Operation not permitted",
                   "writable")  # fmt: skip
    assert state_files(project) == before


def test_converter_environment_that_fails_to_install(tmp_path: Path, shared_models: Path) -> None:
    """A fresh core dir (PlatformIO's packages and platforms linked in, no converter) and an
    empty wheel folder: pip cannot find the first pinned package offline."""
    core = tmp_path / "core"
    core.mkdir()
    for name in ("packages", "platforms", "appstate.json"):
        if (REPO_ROOT / ".pio-core" / name).exists():
            (core / name).symlink_to(REPO_ROOT / ".pio-core" / name)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    project = _project(tmp_path / "p", shared_models)
    environ = {"PLATFORMIO_CORE_DIR": str(core), "PIO_TINYML_WHEELHOUSE": str(wheels)}
    environ["PIO_TINYML_CONVERTER_PYTHON"] = ""
    requirements = REPO_ROOT / "platformio_plugin/convert/requirements.txt"
    first_pin = next(
        line.strip()
        for line in requirements.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    proc = run(project, "host", env=environ)
    assert_refused(proc, "Failed installing the model converter's packages", first_pin,
                   "No matching distribution found", f"PIO_TINYML_WHEELHOUSE={wheels}",
                   "pip download -r requirements.txt")  # fmt: skip
    assert [p.name for p in (core / "tinyml").iterdir()] == []  # no half-made environment
