"""Download and unpack one pinned archive (standard library only).

The archive is streamed to a temp file in the destination folder, its MD5 checked against
the pin (where upstream publishes one), then unpacked with every member's path checked to
stay inside the destination. Proxies come from the usual HTTPS_PROXY / NO_PROXY variables.
"""

from __future__ import annotations

import hashlib
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Optional

from .. import files
from ..errors import SourcesError

TIMEOUT_S = 60


def _fetch(url: str, dest: Path) -> str:
    """Stream `url` into `dest`; return the MD5 of the bytes received."""
    digest = hashlib.md5(usedforsecurity=False)
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, dest.open("wb") as out:
        for block in iter(lambda: response.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _unpack(archive: Path, into: Path) -> None:
    root = into.resolve()
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            target = (into / member.filename).resolve()
            if target != root and root not in target.parents:
                raise SourcesError(f"{archive.name}: member {member.filename} leaves the folder")
        zf.extractall(into)


def download_archive(url: str, checksum: Optional[str], dest: Path) -> Path:
    """Download `url` (a .zip), check it, unpack it into `dest`; return the unpacked folder."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        archive = Path(tmp) / "archive.zip"
        got = _fetch(url, archive)
        if checksum and got != checksum.lower():
            raise SourcesError(f"{url}: checksum {got} does not match the pinned {checksum}")
        unpacked = Path(tmp) / "unpacked"
        unpacked.mkdir()
        _unpack(archive, unpacked)
        children = [c for c in unpacked.iterdir() if c.is_dir()]
        if len(children) != 1:
            raise SourcesError(f"{url} did not unpack to a single folder")
        target = dest / children[0].name
        if not target.exists():
            files.publish_dir(children[0], target)
        return target
