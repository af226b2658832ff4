"""Local source trees of another version than the pinned one are refused by `pio run`, after
conversion and before any TFLM source compiles (the refusal's text without a build:
tests/unit/test_supply_chain.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.host_project import assert_refused, env_section, make_project, run, state_files

from platformio_plugin.tflm import sources as src

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("pio_ready")]


def test_local_sources_of_another_version_refused_by_the_build(
    tmp_path: Path, shared_models: Path
) -> None:
    sources = tmp_path / "sources"
    for pin in src.PINS:
        folder = "tflite-micro-0123abcd" if pin.key == "tflm" else pin.folder
        (sources / folder).mkdir(parents=True)
    project = tmp_path / "p"
    (project / "models").mkdir(parents=True)
    shutil.copyfile(shared_models / "tflm_hello_world/hello_world_int8.tflite",
                    project / "models/net.tflite")  # fmt: skip
    make_project(project, [env_section("host", f"custom_tinyml_sources_dir = {sources}",
                                       runtime="tflm")])  # fmt: skip
    proc = run(project, "host")
    message = assert_refused(proc, "tflite-micro-0123abcd/", src.TFLM_COMMIT, str(sources))
    assert "Compiling .pio/build/host/tflm" not in proc.stdout
    assert state_files(project)  # the model was converted and generated before the refusal
    assert "custom_tinyml_allow_sources_mismatch = yes" in message
