"""The shared TFLM archive cache without SCons: key, lookup, publish."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from platformio_plugin.tflm import build_cache as bc

pytestmark = pytest.mark.unit


def inputs(**changes: object) -> bc.BuildInputs:
    base = bc.BuildInputs(
        compilers=(("/usr/bin/arm-none-eabi-g++", "arm-none-eabi-g++ 12.2"),),
        flags=(("CCFLAGS", "-mcpu=cortex-m4 -mthumb"),),
        kernels="cmsis-nn",
        kernel_opt="-O2",
        core_opt="-Os",
        ops=("FULLY_CONNECTED",),
        sources=(("tflm/a", "/src/a.cc", "-Os"),),
        files=(("/src/a.cc", 10, 1),),
        generated=(("flatbuffers/base.h", "00"),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"compilers": (("/usr/bin/arm-none-eabi-g++", "arm-none-eabi-g++ 13.1"),)},
        {"flags": (("CCFLAGS", "-mcpu=cortex-m7 -mthumb"),)},
        {"kernels": "reference"},
        {"kernel_opt": "-O3"},
        {"ops": ("CONV_2D", "FULLY_CONNECTED")},
        {"files": (("/src/a.cc", 10, 2),)},
        {"generated": (("flatbuffers/base.h", "01"),)},
    ],
)
def test_every_input_changes_the_key(change: dict[str, object]) -> None:
    assert bc.cache_key(inputs(**change)) != bc.cache_key(inputs())


def test_lookup_needs_the_marker_with_the_same_key(tmp_path: Path) -> None:
    key = bc.cache_key(inputs())
    archive = tmp_path / "build" / bc.ARCHIVE
    archive.parent.mkdir()
    archive.write_bytes(b"!<arch>\n")
    assert bc.lookup(tmp_path / "cache", key) is None
    published = bc.publish(tmp_path / "cache", key, archive, {"board": "mps2-an386"})
    assert bc.lookup(tmp_path / "cache", key) == published
    assert published.read_bytes() == b"!<arch>\n"
    marker = published.parent / bc.MARKER
    assert json.loads(marker.read_text())["board"] == "mps2-an386"
    marker.write_text(json.dumps({"key": "0" * 64}))  # a different build in the same folder
    assert bc.lookup(tmp_path / "cache", key) is None
    marker.unlink()  # archive copied, marker never written: incomplete
    assert bc.lookup(tmp_path / "cache", key) is None
    assert not list(published.parent.glob("*.tmp"))


def test_file_stats_cover_sources_and_headers(tmp_path: Path) -> None:
    (tmp_path / "inc" / "sub").mkdir(parents=True)
    (tmp_path / "inc" / "sub" / "a.h").write_text("x")
    (tmp_path / "inc" / "notes.md").write_text("x")
    (tmp_path / "b.cc").write_text("yy")
    stats = bc.file_stats([tmp_path / "b.cc"], [tmp_path / "inc"])
    assert [(Path(p).name, size) for p, size, _ in stats] == [("b.cc", 2), ("a.h", 1)]
