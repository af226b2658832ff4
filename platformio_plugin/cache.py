"""Content fingerprints, the conversion cache, atomic writes and a cache lock.

A build is skipped when the fingerprint of everything that can change its
output (model bytes, calibration/validation data, class file, options,
converter pins, plugin version) matches the stamp written last by the
previous successful run. Only contents count: touching a file changes nothing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Mapping, Optional

from . import __version__
from .errors import BuildFolderError

STAMP_NAME = "fingerprint.json"


def hash_path(digest: hashlib._Hash, path: Optional[Path]) -> None:
    """Feed a file's bytes, or a folder's relative names and bytes, into a digest."""
    if path is None:
        digest.update(b"\0none")
        return
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(child.relative_to(path)).encode("utf-8") + b"\0")
            hash_path(digest, child)
        return
    digest.update(f"\0file {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def fingerprint(files: Mapping[str, Optional[Path]], settings: Mapping[str, Any]) -> str:
    """sha256 over named input files (contents only) and JSON-able settings."""
    digest = hashlib.sha256()
    digest.update(f"pio-tinyml {__version__}\0".encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0")
        hash_path(digest, files[name])
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def read_stamp(folder: Path) -> Optional[str]:
    try:
        data = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("fingerprint") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def write_stamp(folder: Path, key: str) -> None:
    """Written last: a folder without a matching stamp is never taken as done."""
    write_atomic(folder / STAMP_NAME, json.dumps({"fingerprint": key}) + "\n")


def unwritable(path: Path, exc: OSError) -> BuildFolderError:
    """The one error for a build-folder path the plugin cannot write."""
    reason = exc.strerror or type(exc).__name__
    return BuildFolderError(
        f"Cannot write {path}: {reason}.",
        f"Make {path.parent} writable (permissions, read-only mount, free space), "
        "or delete the project's .pio/build folder and build again.",
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_dead_temps(path: Path) -> None:
    """Delete the temp files of `path` left by writers that were killed before their rename
    (named `.<name>.<pid>-<random>`); those of live writers stay."""
    prefix = f".{path.name}."
    for sibling in path.parent.glob(f".{glob.escape(path.name)}.*-*"):
        pid = sibling.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                sibling.unlink()


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write via a temp file in the same folder and rename: never half-written."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_dead_temps(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", dir=path.parent)
    except OSError as exc:
        raise unwritable(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise unwritable(path, exc) from None
        raise


def write_if_changed(path: Path, content: str | bytes) -> bool:
    """Atomic write only when the content differs, so unchanged headers keep their
    timestamps and SCons recompiles nothing. Returns True when written."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        if path.read_bytes() == data:
            remove_dead_temps(path)
            return False
    except OSError:
        pass
    write_atomic(path, data)
    return True


def publish_dir(staging: Path, final: Path) -> None:
    """Replace `final` by a fully written `staging` folder (same file system)."""
    try:
        if final.exists():
            trash = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, trash)
            os.replace(staging, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging, final)
    except OSError as exc:
        raise unwritable(final, exc) from None


def _open_lock(lock_path: Path) -> IO[str]:
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        return lock_path.open("a+")
    except OSError as exc:
        raise unwritable(lock_path, exc) from None


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """An exclusive advisory lock (flock): released by the kernel if the holder dies,
    so a killed build never leaves a dead lock behind."""
    with _open_lock(lock_path) as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except OSError as exc:  # pragma: no cover - file systems without flock
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP):
                raise
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# Build-folder locks this process holds until it exits (path -> open lock file).
_HELD: dict[str, IO[str]] = {}


def hold_until_exit(lock_path: Path, on_wait: Callable[[str], None]) -> None:
    """Take an exclusive lock on `lock_path` for the rest of this process.

    Two SCons processes building the same env would compile into the same objects and
    archive at once; PlatformIO itself does not prevent that. The hook takes this lock
    before anything of the env is built, and the kernel releases it when the SCons process
    ends (or dies), so the second build starts when the first is finished. `on_wait` gets
    the pid of the holder (as written in the file) when the lock is busy.
    """
    key = str(lock_path)
    if key in _HELD:  # a second flock of the same file in one process would block forever
        return
    handle = _open_lock(lock_path)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        on_wait(handle.read().strip() or "?")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    except OSError as exc:  # pragma: no cover - file systems without flock
        if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP):
            raise
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _HELD[key] = handle
