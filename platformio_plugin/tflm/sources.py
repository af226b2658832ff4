"""Pinned upstream sources: where they are, how they are checked, how they are fetched.

Resolution order (first hit wins):

1. option ``custom_tinyml_sources_dir``      (explicit: must hold the pinned trees)
2. environment variable ``PIO_TINYML_SOURCES`` (explicit: must hold the pinned trees)
3. ``~/.pio-tinyml/sources``                 (used when it holds the pinned TFLM tree)
4. the download cache in PlatformIO's core dir, filled on first use by a ``Downloader``
   (the SCons side passes one built on PlatformIO's own ``FileDownloader``).

Each tree lives in a folder named as the upstream GitHub archive unpacks
(``tflite-micro-<commit>``); the folder name is the version marker. A folder of the same
project with another version is an error naming both, unless the user accepts it.

Hash provenance: GitHub builds its archives on the fly, so their bytes cannot be
reproduced here. The checksums below are the MD5 sums TFLM itself pins for the same
GitHub ``.zip`` URLs in ``tensorflow/lite/micro/tools/make/third_party_downloads.inc`` and
``ext_libs/{cmsis,cmsis_nn}_download.sh`` at the pinned TFLM commit (MD5 is what upstream
publishes; no SHA-256 exists upstream for these archives). TFLM pins nothing for its own
archive, so that one has no checksum: it is fixed by the commit in its URL and folder name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Final, Iterable, Mapping, Optional, Sequence

from ..errors import SourcesError
from .selection import SourceTrees

TFLM_COMMIT: Final = "90b983c2b3f1480642e040bbd2ddb37b998f3424"
ENV_VAR: Final = "PIO_TINYML_SOURCES"
OPTION: Final = "custom_tinyml_sources_dir"
HOME_SOURCES: Final = Path("~/.pio-tinyml/sources")
FLATBUFFERS_PATCH: Final = "tensorflow/lite/micro/tools/make/flatbuffers.patch"


@dataclass(frozen=True)
class Pin:
    """One upstream tree at a fixed version."""

    key: str  # field name in SourceTrees
    project: str  # folder prefix, e.g. "tflite-micro"
    version: str  # commit or tag version; folder is f"{project}-{version}"
    url: str  # GitHub archive URL (the one TFLM's own scripts use where they have one)
    checksum: Optional[str]  # MD5 pinned by TFLM for that URL, see module docstring
    checksum_source: str  # where the checksum (or the pin) comes from

    @property
    def folder(self) -> str:
        return f"{self.project}-{self.version}"


_MAKE: Final = "tensorflow/lite/micro/tools/make/"
PINS: Final[tuple[Pin, ...]] = (
    Pin("tflm", "tflite-micro", TFLM_COMMIT,
        f"https://github.com/tensorflow/tflite-micro/archive/{TFLM_COMMIT}.zip",
        None, "pio-tinyml's own pin (TFLM publishes no checksum of its archive)"),
    Pin("cmsis_nn", "CMSIS-NN", "4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae",
        "https://github.com/ARM-software/CMSIS-NN/archive/4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae.zip",
        "c960031e7d10cf31c477fb34ef460106", _MAKE + "ext_libs/cmsis_nn_download.sh"),
    Pin("cmsis", "CMSIS_6", "5782d6f8057906d360f4b95ec08a2354afe5c9b9",
        "https://github.com/ARM-software/CMSIS_6/archive/5782d6f8057906d360f4b95ec08a2354afe5c9b9.zip",
        "563e7c6465f63bdc034359e9b536b366", _MAKE + "ext_libs/cmsis_download.sh"),
    Pin("flatbuffers", "flatbuffers", "25.9.23",
        "https://github.com/google/flatbuffers/archive/refs/tags/v25.9.23.zip",
        "023eca1e211d64007124420cd6be29c7", _MAKE + "third_party_downloads.inc"),
    Pin("gemmlowp", "gemmlowp", "719139ce755a0f31cbf1c37f7f98adcc7fc9f425",
        "https://github.com/google/gemmlowp/archive/719139ce755a0f31cbf1c37f7f98adcc7fc9f425.zip",
        "7e8191b24853d75de2af87622ad293ba", _MAKE + "third_party_downloads.inc"),
    Pin("ruy", "ruy", "d37128311b445e758136b8602d1bbd2a755e115d",
        "https://github.com/google/ruy/archive/d37128311b445e758136b8602d1bbd2a755e115d.zip",
        "abf7a91eb90d195f016ebe0be885bb6e", _MAKE + "third_party_downloads.inc"),
)  # fmt: skip
PINS_BY_KEY: Final[Mapping[str, Pin]] = {p.key: p for p in PINS}
CMSIS_KEYS: Final = ("cmsis_nn", "cmsis")

# (url, checksum or None, destination directory) -> the folder the archive unpacked to.
# Raises any exception on failure; checksum mismatches must raise too.
Downloader = Callable[[str, Optional[str], Path], Path]


def required_pins(kernels: str) -> list[Pin]:
    """The trees a build with these kernels needs."""
    return [p for p in PINS if kernels == "cmsis-nn" or p.key not in CMSIS_KEYS]


def layout_text(pins: Sequence[Pin] = PINS) -> str:
    """The expected folder layout, for messages."""
    return ", ".join(f"{p.folder}/" for p in pins)


def _other_versions(root: Path, pin: Pin) -> list[str]:
    if not root.is_dir():
        return []
    pattern = re.compile(re.escape(pin.project) + r"-(.+)")
    return sorted(
        m.group(1)
        for child in root.iterdir()
        if child.is_dir() and (m := pattern.fullmatch(child.name)) and m.group(1) != pin.version
    )


def find_tree(root: Path, pin: Pin, *, where: str, accept_other_version: bool) -> Optional[Path]:
    """The folder of ``pin`` under ``root``; None when absent.

    A folder of the same project with another version raises SourcesError naming the
    version found and the one expected, unless ``accept_other_version``.
    """
    exact = root / pin.folder
    if exact.is_dir():
        return exact
    others = _other_versions(root, pin)
    if not others:
        return None
    if accept_other_version:
        return root / f"{pin.project}-{others[0]}"
    raise SourcesError(
        f"{where} holds {pin.project}-{others[0]}/ but pio-tinyml {pin.project} is pinned at "
        f"{pin.version} (expected {pin.folder}/)",
        hint=f"Unpack {pin.url} there, or set custom_tinyml_allow_sources_mismatch = yes "
        "to build with the version found (untested).",
    )


def trees_in(
    root: Path, pins: Sequence[Pin], *, where: str, accept_other_version: bool
) -> tuple[dict[str, Path], list[Pin]]:
    """Found trees by key, and the pins missing under ``root``."""
    found: dict[str, Path] = {}
    missing: list[Pin] = []
    for pin in pins:
        path = find_tree(root, pin, where=where, accept_other_version=accept_other_version)
        if path is None:
            missing.append(pin)
        else:
            found[pin.key] = path
    return found, missing


def _to_trees(found: Mapping[str, Path]) -> SourceTrees:
    return SourceTrees(
        tflm=found["tflm"],
        flatbuffers=found["flatbuffers"],
        gemmlowp=found["gemmlowp"],
        ruy=found["ruy"],
        cmsis_nn=found.get("cmsis_nn"),
        cmsis=found.get("cmsis"),
    )


def resolve_sources(
    *,
    kernels: str,
    option_dir: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
    home_dir: Optional[Path] = None,
    cache_dir: Optional[Path] = None,
    download: Optional[Downloader] = None,
    accept_other_version: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
) -> SourceTrees:
    """Find (or fetch) the trees a build with ``kernels`` needs, in the documented order."""
    pins = required_pins(kernels)
    accept = accept_other_version
    env = os.environ if environ is None else environ
    explicit: list[tuple[str, Path]] = []
    if option_dir:
        explicit.append((f"{OPTION} = {option_dir}", Path(option_dir).expanduser()))
    if env.get(ENV_VAR):
        explicit.append((f"{ENV_VAR}={env[ENV_VAR]}", Path(env[ENV_VAR]).expanduser()))
    for where, root in explicit:
        if not root.is_dir():
            raise SourcesError(f"{where}: directory {root} does not exist")
        found, missing = trees_in(root, pins, where=where, accept_other_version=accept)
        if missing:
            raise SourcesError(
                f"{where}: {root} lacks {layout_text(missing)}",
                hint=f"Unpack the pinned archives there ({', '.join(p.url for p in missing)}).",
            )
        return _to_trees(found)

    home = (home_dir or HOME_SOURCES).expanduser()
    if (home / PINS_BY_KEY["tflm"].folder).is_dir() or _other_versions(home, PINS_BY_KEY["tflm"]):
        where = str(home)
        found, missing = trees_in(home, pins, where=where, accept_other_version=accept)
        if not missing:
            return _to_trees(found)
        raise SourcesError(
            f"{home} holds TFLM but lacks {layout_text(missing)}",
            hint=f"Unpack {', '.join(p.url for p in missing)} there.",
        )

    if cache_dir is None:
        raise SourcesError(
            "TFLite Micro sources not found and no download cache is configured",
            hint=_no_sources_hint(pins),
        )
    found, missing = trees_in(cache_dir, pins, where=str(cache_dir), accept_other_version=False)
    for pin in missing:
        if download is None:
            raise SourcesError("TFLite Micro sources not found", hint=_no_sources_hint(pins))
        log(f"downloading {pin.folder} ({pin.url})")
        found[pin.key] = fetch_pin(pin, cache_dir, download, pins)
    return _to_trees(found)


def _no_sources_hint(pins: Sequence[Pin]) -> str:
    return (
        "Either unpack the pinned archives as "
        f"{HOME_SOURCES}/{{{layout_text(pins)}}} "
        f"(or anywhere, then set {ENV_VAR} or {OPTION} to that folder),\n"
        "       or allow the build to download them from github.com once."
    )


def fetch_pin(pin: Pin, cache_dir: Path, download: Downloader, pins: Sequence[Pin] = PINS) -> Path:
    """Download and unpack one pinned archive into ``cache_dir``; SourcesError on any failure."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        unpacked = download(pin.url, pin.checksum, cache_dir)
    except Exception as exc:  # the downloader's own error type is not ours to know
        raise SourcesError(
            f"could not download {pin.url}: {exc}", hint=_no_sources_hint(pins)
        ) from exc
    target = cache_dir / pin.folder
    if unpacked != target:
        if not (unpacked / pin.folder).is_dir():
            raise SourcesError(f"{pin.url} did not unpack to {pin.folder}/ (got {unpacked})")
        (unpacked / pin.folder).rename(target)
    return target


# --- flatbuffers.patch, applied to copies (the user's trees are never modified) -----------

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_patch(text: str) -> dict[str, list[list[str]]]:
    """Unified diff -> {relative path: [hunk lines (' ', '-', '+' prefixed)]}.

    Hunks are read by the line counts of their ``@@`` headers, so trailers such as a
    ``format-patch`` signature are ignored.
    """
    files: dict[str, list[list[str]]] = {}
    current: Optional[list[list[str]]] = None
    old_left = new_left = 0
    for line in text.splitlines():
        if old_left > 0 or new_left > 0:
            line = line or " "
            assert current is not None
            current[-1].append(line)
            if line[0] in (" ", "-"):
                old_left -= 1
            if line[0] in (" ", "+"):
                new_left -= 1
        elif line.startswith("+++ "):
            path = line[4:].split("\t")[0]
            path = path[2:] if path.startswith("b/") else path
            current = files.setdefault(path, [])
        elif current is not None and (match := _HUNK_RE.match(line)):
            current.append([])
            old_left = int(match.group(2) or "1")
            new_left = int(match.group(4) or "1")
    return files


def apply_hunks(original: str, hunks: Iterable[list[str]], name: str = "") -> str:
    """Apply hunks by exact context match (searched from the previous hunk on)."""
    lines = original.split("\n")
    pos = 0
    for hunk in hunks:
        old = [h[1:] for h in hunk if h[0] in (" ", "-")]
        new = [h[1:] for h in hunk if h[0] in (" ", "+")]
        for start in range(pos, len(lines) - len(old) + 1):
            if lines[start : start + len(old)] == old:
                lines[start : start + len(old)] = new
                pos = start + len(new)
                break
        else:
            raise SourcesError(f"TFLM's flatbuffers.patch does not apply to {name}")
    return "\n".join(lines)


def patched_flatbuffers_headers(trees: SourceTrees) -> dict[str, str]:
    """{path relative to an include dir ("flatbuffers/base.h"): patched text}."""
    patch = (trees.tflm / FLATBUFFERS_PATCH).read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for rel, hunks in parse_patch(patch).items():
        if not rel.startswith("include/"):
            continue
        original = (trees.flatbuffers / rel).read_text(encoding="utf-8")
        out[rel[len("include/") :]] = apply_hunks(original, hunks, rel)
    return out


def write_flatbuffers_overlay(trees: SourceTrees, dest: Path) -> Path:
    """Write the patched headers under ``dest`` (only when changed); return ``dest``."""
    for rel, text in patched_flatbuffers_headers(trees).items():
        path = dest / rel
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return dest
