"""Built TFLM archives shared across projects: ``<core_dir>/tinyml/tflm-lib/<key>/``.

SCons remembers what it built per project (``.sconsign``), so a new project recompiles
TFLM (~140 objects) even when an identical archive already exists next door. This cache
holds finished ``libtinyml-tflm.a`` archives under a key that covers everything that
reaches the compile commands: the compilers (path and ``--version``), every flag, define and
include directory, the kernel choice, the op set and every source and header file (path,
size, modification time). An entry counts only once its ``.complete`` marker exists; the
archive is published first (temporary file + rename), the marker last, so a reader never
sees half an archive. Standard library only: the SCons side (``scons/tflm_build.py``)
collects the inputs and wires the build.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any, Iterable, Optional

from .. import files
from ..errors import BuildFolderError

ARCHIVE = "libtinyml-tflm.a"
MARKER = ".complete"
KEY_DIGITS = 24  # directory name; 96 bits
HEADER_SUFFIXES = (".h", ".hpp", ".hh", ".inc", ".inl")


@dataclass(frozen=True)
class BuildInputs:
    """What decides the archive's bytes. Paths inside the project are already normalized."""

    compilers: tuple[tuple[str, str], ...]  # (resolved path, `--version` output)
    flags: tuple[tuple[str, str], ...]  # (construction variable, expanded value)
    kernels: str
    kernel_opt: str
    core_opt: str
    ops: tuple[str, ...]  # sorted
    sources: tuple[tuple[str, str, str], ...]  # (object name, source path, -O flag)
    files: tuple[tuple[str, int, int], ...]  # (path, size, mtime_ns) of sources and headers
    generated: tuple[tuple[str, str], ...]  # (name, sha256) of generated headers (overlay)


def _as_dict(inputs: BuildInputs) -> dict[str, Any]:
    """Shallow: the fields are plain tuples already (dataclasses.asdict deep-copies
    thousands of them on every build)."""
    return {f.name: getattr(inputs, f.name) for f in fields(inputs)}


def cache_key(inputs: BuildInputs) -> str:
    text = json.dumps(_as_dict(inputs), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=16)
def compiler_version(path: str, memo: Optional[Path] = None) -> str:
    """First lines of ``<path> --version`` (or why it could not run).

    With ``memo`` (a JSON file), the answer is remembered by the binary's resolved path, size
    and mtime: an unchanged toolchain then costs a stat on each build, not a process.
    """
    try:
        st = os.stat(path)
        stamp = f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        stamp = ""
    known: dict[str, str] = {}
    if memo is not None and stamp:
        try:
            loaded = json.loads(memo.read_text(encoding="utf-8"))
            known = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            known = {}
        if isinstance(known.get(stamp), str):
            return known[stamp]
    try:
        proc = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unavailable: {exc}"
    version = (proc.stdout or proc.stderr).strip()
    if memo is not None and stamp and proc.returncode == 0:
        known[stamp] = version
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(known, indent=1, sort_keys=True).encode("utf-8")
            files.write_atomic(memo, text)
        except (OSError, BuildFolderError):
            pass  # only a memo
    return version


# Folders of the upstream trees that hold tests, docs, examples and tooling: nothing the
# library compiles includes from them (CMSIS-NN's Tests/ alone has ~3,500 headers), so the
# key does not stat them on every build.
NOT_LIBRARY_DIRS = frozenset(
    {
        "Tests", "tests", "test", "testing", "testdata", "test_data_generation",
        "integration_tests", "examples", "python", "tools", "docs", "Documentation",
        "benchmarks", "samples", "android", "grpc", "goldens",
    }
)  # fmt: skip


def _headers(root: str, out: set[str]) -> None:
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=True):
            if not entry.name.startswith(".") and entry.name not in NOT_LIBRARY_DIRS:
                _headers(entry.path, out)
        elif entry.name.endswith(HEADER_SUFFIXES):
            out.add(entry.path)


def file_stats(sources: Iterable[Path], include_dirs: Iterable[Path]) -> list[tuple[str, int, int]]:
    """(path, size, mtime_ns) of each source and of every header below the include dirs
    (outside NOT_LIBRARY_DIRS)."""
    paths: set[str] = {str(p) for p in sources}
    for root in include_dirs:
        _headers(str(root), paths)
    stats = []
    for path in sorted(paths):
        try:
            st = os.stat(path)
        except OSError:
            continue
        stats.append((path, st.st_size, st.st_mtime_ns))
    return stats


def text_digests(files: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, hashlib.sha256(text.encode("utf-8")).hexdigest())
        for name, text in sorted(files.items())
    )


def write_inputs(path: Path, key: str, inputs: BuildInputs) -> None:
    """The key's inputs as JSON next to the build (to compare two projects on a cache miss);
    written only when the key changed (the key leads the file, so a short read decides)."""
    head = f'{{\n "key": "{key}",'
    try:
        with path.open("r", encoding="utf-8") as handle:
            if handle.read(len(head)) == head:
                return
    except OSError:
        pass
    text = json.dumps({"key": key, **_as_dict(inputs)}, indent=1) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomic(path, text)


def entry_dir(cache_root: Path, key: str) -> Path:
    return cache_root / key[:KEY_DIGITS]


def lookup(cache_root: Path, key: str) -> Optional[Path]:
    """The cached archive for ``key`` when its entry is complete, else None."""
    entry = entry_dir(cache_root, key)
    archive = entry / ARCHIVE
    try:
        recorded = json.loads((entry / MARKER).read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError, AttributeError):
        return None
    return archive if recorded == key and archive.is_file() else None


def publish(cache_root: Path, key: str, archive: Path, manifest: dict[str, Any]) -> Path:
    """Copy ``archive`` into the entry for ``key`` (archive first, marker last)."""
    entry = entry_dir(cache_root, key)
    entry.mkdir(parents=True, exist_ok=True)

    def copy(fp: IO[bytes]) -> None:
        with open(archive, "rb") as src:
            shutil.copyfileobj(src, fp)

    files.write_atomic(entry / ARCHIVE, copy)
    record = json.dumps({"key": key, **manifest}, indent=1, sort_keys=True) + "\n"
    files.write_atomic(entry / MARKER, record)
    return entry / ARCHIVE
