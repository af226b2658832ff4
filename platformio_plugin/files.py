"""The plugin's one way to write files and folders and to lock them.

Every file the plugin produces is written through a temp file in the same folder and
renamed (never half-written, also when the build is killed); folders are staged and
renamed into place. Locks are advisory and released by the OS when their holder dies,
so a killed build never leaves a dead lock behind (flock on POSIX, msvcrt on Windows).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Callable, Iterator

from .errors import BuildFolderError

if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[str], blocking: bool) -> None:
        handle.seek(0)
        while True:
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                if not blocking:
                    raise BlockingIOError(errno.EAGAIN, "locked") from None
                time.sleep(0.1)

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[str], blocking: bool) -> None:
        flags = fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(handle.fileno(), flags)
        except OSError as exc:  # pragma: no cover - file systems without flock
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP):
                raise

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def unwritable(path: Path, exc: OSError) -> BuildFolderError:
    """The one error for a path the plugin cannot write."""
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


def _readable_by_all(fd: int) -> None:
    """mkstemp makes 0600 files; generated files get the usual umask-based mode."""
    if sys.platform == "win32":
        return
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)


def write_atomic(path: Path, content: str | bytes | Callable[[IO[bytes]], None]) -> None:
    """Write via a temp file in the same folder and rename: never half-written.
    `content` is text, bytes, or a function that writes into the open binary file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_dead_temps(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", dir=path.parent)
    except OSError as exc:
        raise unwritable(path, exc) from None
    try:
        _readable_by_all(fd)
        with os.fdopen(fd, "wb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content.encode("utf-8") if isinstance(content, str) else content)
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


def staging_dir(final: Path) -> Path:
    """A new empty folder beside `final` (same file system), to fill and then publish."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    except OSError as exc:
        raise unwritable(final, exc) from None


def clear_stale_staging(final: Path) -> None:
    """Staging folders of `final` left by a killed run (call under the folder's lock)."""
    for stale in final.parent.glob(f".{glob.escape(final.name)}.*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


def publish_dir(staging: Path, final: Path) -> None:
    """Replace `final` by a fully written `staging` folder (same file system)."""
    try:
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp made it 0700
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
    """An exclusive advisory lock for the duration of the block."""
    with _open_lock(lock_path) as handle:
        _lock(handle, blocking=True)
        try:
            yield
        finally:
            _unlock(handle)


# Locks this process holds until it exits (path -> open lock file).
_HELD: dict[str, IO[str]] = {}


def hold_until_exit(lock_path: Path, on_wait: Callable[[str], None]) -> None:
    """Take an exclusive lock on `lock_path` for the rest of this process.

    Two SCons processes building the same env would compile into the same objects and
    archive at once; PlatformIO itself does not prevent that. The hook takes this lock
    before anything of the env is built, and the OS releases it when the SCons process
    ends (or dies), so the second build starts when the first is finished. `on_wait` gets
    the pid of the holder (as written in the file) when the lock is busy.
    """
    key = str(lock_path)
    if key in _HELD:  # a second lock of the same file in one process would block forever
        return
    handle = _open_lock(lock_path)
    try:
        _lock(handle, blocking=False)
    except BlockingIOError:
        handle.seek(0)
        on_wait(handle.read().strip() or "?")
        _lock(handle, blocking=True)
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _HELD[key] = handle
