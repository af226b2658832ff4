"""Pinned upstream sources: where they are, how they are checked, how they are fetched.

Resolution order (first hit wins):

1. option ``custom_tinyml_sources_dir``      (explicit: must hold the pinned trees)
2. environment variable ``PIO_TINYML_SOURCES`` (explicit: must hold the pinned trees)
3. ``~/.pio-tinyml/sources``                 (used when it holds the pinned TFLM tree)
4. the download cache in PlatformIO's core dir, filled on first use by a ``Downloader``
   (see :mod:`.download`).

Each tree lives in a folder named as the upstream GitHub archive unpacks
(``tflite-micro-<commit>``); the folder name is the version marker. A folder of the same
project with another version is an error naming both, unless the user accepts it.

Versions, archive URLs and checksums: see :mod:`.pins`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Final, Mapping, Optional, Sequence

from .. import files
from ..errors import SourcesError
from .pins import PINS, PINS_BY_KEY, TFLM_COMMIT, Pin, layout_text, required_pins
from .selection import SourceTrees

__all__ = ["PINS", "TFLM_COMMIT", "Pin", "resolve_sources"]

ENV_VAR: Final = "PIO_TINYML_SOURCES"
OPTION: Final = "custom_tinyml_sources_dir"
HOME_SOURCES: Final = Path("~/.pio-tinyml/sources")

# (url, checksum or None, destination directory) -> the folder the archive unpacked to.
# Raises any exception on failure; checksum mismatches must raise too.
Downloader = Callable[[str, Optional[str], Path], Path]


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
        files.publish_dir(unpacked / pin.folder, target)
    return target
