"""Fingerprints count contents only (cache.py); writes are atomic and skip unchanged files,
locks die with their holder (files.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from platformio_plugin import cache, files

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
    assert files.write_if_changed(path, "int a;\n")
    os.utime(path, (100, 100))
    assert not files.write_if_changed(path, "int a;\n")
    assert path.stat().st_mtime == 100
    assert files.write_if_changed(path, "int b;\n")
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
        files.publish_dir(staging, final)
    assert (final / "f").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]


# The lock tests run every lock in a forked child or a thread, and wait for it at most
# LOCK_TIMEOUT seconds: a lock that never comes fails the test instead of hanging it.
LOCK_TIMEOUT = 30.0


def _wait_child(pid: int, timeout: float = LOCK_TIMEOUT) -> int:
    """The exit code of forked child `pid`; killed, and the test failed, past `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"child {pid} did not exit within {timeout} s (blocked on the lock?)")


def _fork(child: Callable[[], int]) -> int:
    """Fork a process that runs `child` and exits with its result (1 on an exception)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = child()
        finally:
            os._exit(code)
    return pid


def test_lock_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    lock = tmp_path / "k.lock"

    def holder() -> int:  # takes the lock and dies without releasing it
        with files.locked(lock):
            os._exit(0)

    assert _wait_child(_fork(holder)) == 0
    taken = threading.Event()

    def take() -> None:
        with files.locked(lock):  # blocks for good if the lock survived its holder
            taken.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    thread.join(LOCK_TIMEOUT)
    assert taken.is_set(), f"the dead holder's lock still blocks after {LOCK_TIMEOUT} s"


def _child_holding(lock: Path, seconds: float, ready: Path, done: Path) -> int:
    """Fork a process that takes the build lock, says so, works `seconds`, writes `done` and
    exits (the kernel releases the lock while the process exits)."""

    def hold() -> int:
        files.hold_until_exit(lock, lambda _pid: None)
        ready.write_text("held")
        time.sleep(seconds)
        done.write_text("done")
        return 0

    pid = _fork(hold)
    deadline = time.monotonic() + LOCK_TIMEOUT
    while not ready.exists():
        if time.monotonic() > deadline or os.waitpid(pid, os.WNOHANG)[0]:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            raise AssertionError(f"the holder did not take the lock within {LOCK_TIMEOUT} s")
        time.sleep(0.01)
    return pid


def test_build_lock_waits_for_the_holder_and_names_it(tmp_path: Path) -> None:
    lock = tmp_path / "build" / "tinyml-build.lock"
    done = tmp_path / "done"
    holder = _child_holding(lock, 0.5, tmp_path / "ready", done)
    waited: list[str] = []

    def waiter() -> int:  # returns only once the holder has finished and exits
        files.hold_until_exit(lock, waited.append)
        if not done.exists():
            return 3  # the lock came while the holder was still working
        if not _ends_within(holder, 5.0):
            return 4  # ... or while it went on running after its work
        return 0 if waited == [str(holder)] else 5

    pid = _fork(waiter)
    status = _wait_child(pid)
    assert _wait_child(holder) == 0
    assert status == 0
    assert lock.read_text() == f"{pid}\n"  # the last holder wrote its pid


def _ends_within(pid: int, seconds: float) -> bool:
    """True once `pid` is gone or a zombie (a finished child not yet reaped) within `seconds`:
    the kernel releases a process's locks while it exits, a moment before it is a zombie."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                if handle.read().split(")")[-1].split()[0] in ("Z", "X"):
                    return True
        except OSError:
            return True
        time.sleep(0.005)
    return False


def test_build_lock_twice_in_one_process_does_not_block(tmp_path: Path) -> None:
    lock = tmp_path / "tinyml-build.lock"
    calls: list[str] = []

    def twice() -> int:
        files.hold_until_exit(lock, calls.append)
        files.hold_until_exit(lock, calls.append)  # would deadlock on a second flock
        return 0 if not calls else 5

    assert _wait_child(_fork(twice)) == 0
