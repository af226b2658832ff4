"""Which CMSIS-NN C files a build needs: the call graph of CMSIS-NN's ``arm_*`` functions.

TFLM's Makefile compiles every CMSIS-NN source of each function group it uses (97 files for the
digits example's five ops, of which their kernels reach 47). This reads the CMSIS-NN sources and
headers and the selected TFLM ``kernels/cmsis_nn/*.cc`` files, finds each function definition
(its name at the start of a line, a parameter list, then a body) and each call
(``arm_<name>(``) inside a body, and keeps the C files defining a function reachable from the
kernels. Every preprocessor branch counts (a call under ``#if ARM_MATH_MVEI`` is followed too),
so the files kept serve every CPU. A called name that nothing defines makes the caller fall back
to the whole groups (``unresolved`` in the result), never to a link error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .. import files
from ..errors import BuildFolderError

_COMMENT_OR_LITERAL = re.compile(
    r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S
)
# A definition's name starts a line, after an optional return type and qualifiers.
_DEFINITION = re.compile(r"^(?:[A-Za-z_][\w \t*]*?[ \t*])?(arm_\w+)[ \t]*\(", re.M)
_CALL = re.compile(r"\b(arm_\w+)\s*\(")
# A macro's logical line (continuations included) after its name.
_MACRO = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(arm_\w+)((?:[^\n]*\\\n)*[^\n]*)", re.M)
# Data only (lookup tables): no function to reach it by, referenced by name from kernels.
DATA_FILES = ("Source/NNSupportFunctions/arm_nntables.c",)


@dataclass(frozen=True)
class Function:
    name: str
    file: str  # relative to the CMSIS-NN root
    calls: frozenset[str]


@dataclass(frozen=True)
class Reach:
    files: tuple[str, ...]  # C files (relative to the CMSIS-NN root) to compile
    unresolved: tuple[str, ...]  # called names with no definition or macro anywhere


def strip_comments(text: str) -> str:
    """Comments and string/char literals removed; each keeps its line breaks (for ``^``)."""
    return _COMMENT_OR_LITERAL.sub(lambda m: " " + "\n" * m.group(0).count("\n"), text)


_BRACKETS = {"(": re.compile(r"[()]"), "{": re.compile(r"[{}]")}


def _closing(text: str, start: int, open_char: str) -> int:
    """Index just past the bracket matching the one at ``start``; -1 when unbalanced."""
    depth = 0
    for match in _BRACKETS[open_char].finditer(text, start):
        depth += 1 if match.group(0) == open_char else -1
        if depth == 0:
            return match.end()
    return -1


def definitions(text: str, file: str) -> Iterator[Function]:
    """Function definitions in C source ``text`` (comments already stripped)."""
    for match in _DEFINITION.finditer(text):
        params_end = _closing(text, match.end() - 1, "(")
        if params_end < 0:
            continue
        body_start = params_end
        while body_start < len(text) and text[body_start] in " \t\r\n":
            body_start += 1
        if body_start >= len(text) or text[body_start] != "{":
            continue  # a prototype or a call, not a definition
        body_end = _closing(text, body_start, "{")
        body = text[body_start : body_end if body_end > 0 else len(text)]
        yield Function(match.group(1), file, frozenset(_CALL.findall(body)))


def calls_in(text: str) -> set[str]:
    return set(_CALL.findall(strip_comments(text)))


def _is_float_variant(name: str) -> bool:
    return name.endswith(("_f16.c", "_f32.c")) or name == "arm_nntables_flt.c"


def macros(text: str, file: str) -> Iterator[Function]:
    """``#define arm_...`` macros, as functions calling what their expansion calls."""
    for match in _MACRO.finditer(text):
        yield Function(match.group(1), file, frozenset(_CALL.findall(match.group(2))))


def read_functions(cmsis_nn: Path) -> list[Function]:
    """Every function and macro defined in CMSIS-NN's integer C sources and its headers."""
    functions: list[Function] = []
    for path in _parsed_files(cmsis_nn):
        text = strip_comments(path.read_text(encoding="utf-8", errors="replace"))
        rel = path.relative_to(cmsis_nn).as_posix()
        functions.extend(definitions(text, rel))
        functions.extend(macros(text, rel))
    return functions


def _parsed_files(cmsis_nn: Path) -> list[Path]:
    sources = (cmsis_nn / "Source").glob("*/*.c")
    return [p for p in sorted(sources) if not _is_float_variant(p.name)] + sorted(
        (cmsis_nn / "Include").glob("*.h")
    )


def _stamp(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        st = path.stat()
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def reachable_files(
    cmsis_nn: Path, kernel_files: Iterable[Path], memo: Optional[Path] = None
) -> Reach:
    """The CMSIS-NN C files the given TFLM kernel sources need, transitively.

    With ``memo`` (a JSON file) the answer is kept under a stamp of every file read (path,
    size, mtime): parsing takes ~40 ms, which a build with nothing changed should not pay.
    """
    kernel_files = sorted(kernel_files)
    stamp = _stamp([*_parsed_files(cmsis_nn), *kernel_files]) if memo is not None else ""
    if memo is not None:
        try:
            data = json.loads(memo.read_text(encoding="utf-8"))
            if data.get("stamp") == stamp:
                return Reach(tuple(data["files"]), tuple(data["unresolved"]))
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            pass
    reach = _reach(cmsis_nn, kernel_files)
    if memo is not None:
        record = {"stamp": stamp, "files": reach.files, "unresolved": reach.unresolved}
        with contextlib.suppress(BuildFolderError):  # only a memo
            files.write_atomic(memo, json.dumps(record, indent=1))
    return reach


def _reach(cmsis_nn: Path, kernel_files: Iterable[Path]) -> Reach:
    functions = read_functions(cmsis_nn)
    by_name: dict[str, list[Function]] = {}
    for fn in functions:
        by_name.setdefault(fn.name, []).append(fn)
    roots: set[str] = set()
    for path in kernel_files:
        roots |= calls_in(path.read_text(encoding="utf-8", errors="replace"))

    files: set[str] = set(DATA_FILES)
    unresolved: set[str] = set()
    seen: set[tuple[str, str]] = set()
    todo: list[tuple[str, str]] = [(name, "") for name in sorted(roots)]
    while todo:
        name, caller_file = todo.pop()
        if (name, caller_file) in seen:
            continue
        seen.add((name, caller_file))
        found = by_name.get(name, [])
        local = [fn for fn in found if fn.file == caller_file]  # a static helper of the caller
        if not found:
            unresolved.add(name)
            continue
        for fn in local or found:
            if fn.file.endswith(".c"):
                files.add(fn.file)
            todo.extend((callee, fn.file) for callee in fn.calls)
    return Reach(tuple(sorted(files)), tuple(sorted(unresolved)))
