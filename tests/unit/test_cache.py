"""Fingerprints count contents only; writes are atomic and skip unchanged files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from platformio_plugin import cache

pytestmark = pytest.mark.unit


def test_fingerprint_follows_content_not_timestamps(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"abc")
    first = cache.fingerprint({"model": model}, {"shape": [1, 2]})
    os.utime(model, (1, 1))
    assert cache.fingerprint({"model": model}, {"shape": [1, 2]}) == first
    model.write_bytes(b"abd")
    assert cache.fingerprint({"model": model}, {"shape": [1, 2]}) != first
    model.write_bytes(b"abc")
    assert cache.fingerprint({"model": model}, {"shape": [1, 3]}) != first


def test_fingerprint_of_folder_sees_names_and_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"1")
    first = cache.fingerprint({"cal": folder}, {})
    (folder / "a.png").rename(folder / "b.png")
    assert cache.fingerprint({"cal": folder}, {}) != first


def test_write_if_changed_keeps_mtime(tmp_path: Path) -> None:
    path = tmp_path / "g" / "x.h"
    assert cache.write_if_changed(path, "int a;\n")
    os.utime(path, (100, 100))
    assert not cache.write_if_changed(path, "int a;\n")
    assert path.stat().st_mtime == 100
    assert cache.write_if_changed(path, "int b;\n")
    assert path.read_text() == "int b;\n"
    assert [p.name for p in path.parent.iterdir()] == ["x.h"]  # no temp files left


def test_stamp_round_trip_and_garbage(tmp_path: Path) -> None:
    assert cache.read_stamp(tmp_path) is None
    cache.write_stamp(tmp_path, "k1")
    assert cache.read_stamp(tmp_path) == "k1"
    (tmp_path / cache.STAMP_NAME).write_text("{half")
    assert cache.read_stamp(tmp_path) is None


def test_publish_dir_replaces_atomically(tmp_path: Path) -> None:
    final = tmp_path / "entry"
    for content in ("old", "new"):
        staging = tmp_path / f"stage-{content}"
        staging.mkdir()
        (staging / "f").write_text(content)
        cache.publish_dir(staging, final)
    assert (final / "f").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]


def test_lock_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    lock = tmp_path / "k.lock"
    pid = os.fork()
    if pid == 0:  # child takes the lock and dies without releasing it
        with cache.locked(lock):
            os._exit(0)
    os.waitpid(pid, 0)
    with cache.locked(lock):  # would block forever if the lock survived its holder
        pass


def _child_holding(lock: Path, seconds: float, ready: Path) -> int:
    """Fork a process that takes the build lock, says so, works `seconds` and exits."""
    pid = os.fork()
    if pid == 0:
        cache.hold_until_exit(lock, lambda _pid: None)
        ready.write_text("held")
        time.sleep(seconds)
        os._exit(0)
    while not ready.exists():
        time.sleep(0.01)
    return pid


def test_build_lock_waits_for_the_holder_and_names_it(tmp_path: Path) -> None:
    lock = tmp_path / "build" / "tinyml-build.lock"
    holder = _child_holding(lock, 0.5, tmp_path / "ready")
    waited: list[str] = []
    pid = os.fork()
    if pid == 0:  # the waiter: returns only once the holder has exited
        cache.hold_until_exit(lock, waited.append)
        alive = _exists(holder)
        os._exit(3 if alive else (0 if waited == [str(holder)] else 4))
    _, status = os.waitpid(pid, 0)
    os.waitpid(holder, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert lock.read_text() == f"{pid}\n"  # the last holder wrote its pid


def _exists(pid: int) -> bool:
    """True while `pid` runs (a finished child not yet reaped is a zombie: counted dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_build_lock_twice_in_one_process_does_not_block(tmp_path: Path) -> None:
    lock = tmp_path / "tinyml-build.lock"
    calls: list[str] = []
    pid = os.fork()
    if pid == 0:
        cache.hold_until_exit(lock, calls.append)
        cache.hold_until_exit(lock, calls.append)  # would deadlock on a second flock
        os._exit(0 if not calls else 5)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
