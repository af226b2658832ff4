"""TFLM's flatbuffers.patch, applied to copies of flatbuffers' headers (the user's trees
are never modified), as TFLM's own download script does to its tree."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final, Iterable, Mapping, Optional

from .. import files
from ..errors import SourcesError
from .selection import SourceTrees

FLATBUFFERS_PATCH: Final = "tensorflow/lite/micro/tools/make/flatbuffers.patch"

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_patch(text: str) -> dict[str, list[list[str]]]:
    """Unified diff -> {relative path: [hunk lines (' ', '-', '+' prefixed)]}.

    Hunks are read by the line counts of their ``@@`` headers, so trailers such as a
    ``format-patch`` signature are ignored.
    """
    found: dict[str, list[list[str]]] = {}
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
            current = found.setdefault(path, [])
        elif current is not None and (match := _HUNK_RE.match(line)):
            current.append([])
            old_left = int(match.group(2) or "1")
            new_left = int(match.group(4) or "1")
    return found


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


def patched_headers(trees: SourceTrees) -> dict[str, str]:
    """{path relative to an include dir ("flatbuffers/base.h"): patched text}."""
    patch = (trees.tflm / FLATBUFFERS_PATCH).read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for rel, hunks in parse_patch(patch).items():
        if not rel.startswith("include/"):
            continue
        original = (trees.flatbuffers / rel).read_text(encoding="utf-8")
        out[rel[len("include/") :]] = apply_hunks(original, hunks, rel)
    return out


def write_overlay(headers: Mapping[str, str], dest: Path) -> Path:
    """Write the patched headers (from ``patched_headers``) under ``dest``, only when
    changed; return ``dest``, the include folder that goes before flatbuffers' own."""
    for rel, text in headers.items():
        files.write_if_changed(dest / rel, text)
    return dest
