"""Build TFLite Micro (+ CMSIS-NN) for exactly a model's ops as a library of the board env.

The library has its own environment: the env's compiler and its machine flags (``-m*``:
CPU, FPU, float ABI, Thumb; ``-f*`` code-generation flags; ``-g*``), nothing of the
framework's or the project's defines and include folders, TFLM's own defines and include
directories, kernels and CMSIS-NN at ``-O2`` (option ``custom_tinyml_kernel_optimization``),
the rest at ``-Os``, C++ as ``gnu++17`` without RTTI and exceptions. So two boards with the
same core, FPU, ABI, compiler, kernels and ops compile the same library. Objects live in a
variant directory keyed by the kernel choice and the op set, so a second build of the same
env recompiles nothing; two trees' files of the same name (``common.cc``,
``kernel_util.cc``) keep distinct objects because each object path mirrors its tree-relative
source path.

Code that includes TFLM's headers (the library's runtime, the generated model sources, the
project's ``src/``) gets TFLM's public include folders and the defines that change what those
headers declare; the global env, which compiles the framework, gets nothing.

Across projects, finished archives are shared through ``<core_dir>/tinyml/tflm-lib/<key>/``
(see ``build_cache.py``): a build whose compiler, library flags, kernels, op set and source
files give the same key links the cached archive and compiles nothing of TFLM.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from ..errors import BuildFolderError, TinyMLError
from ..tflm import build_cache, flatbuffers_patch
from ..tflm import selection as sel
from ..tflm import sources as src
from ..tflm.cpu import KernelChoice
from ..tflm.download import download_archive
from ..tflm.pins import TFLM_COMMIT

LIBRARY_NAME = "tinyml-tflm"
KERNEL_OPT = "-O2"
CORE_OPT = "-Os"


def _strip(flags: Iterable[Any], *prefixes: str) -> list[Any]:
    return [f for f in flags if not (isinstance(f, str) and f.startswith(prefixes))]


# Flags that decide the machine code and ABI: kept for the library. Everything else (defines,
# include folders, warnings, -std, -O) is the framework's or the project's business.
MACHINE_PREFIXES = ("-m", "-f", "-g", "--sysroot", "-specs", "--specs")
KEPT_WITH_VALUE = frozenset({"--param", "-arch", "-isysroot", "-target"})
DROPPED_WITH_VALUE = frozenset(
    {"-include", "-imacros", "-isystem", "-iquote", "-idirafter", "-I", "-D", "-U", "-Xclang"}
)


def machine_flags(flags: Iterable[Any]) -> list[Any]:
    """The code-generation flags of a flag list (strings, or SCons' [flag, value] pairs)."""
    kept: list[Any] = []
    pending: Optional[bool] = None  # keep / drop the value of the previous flag
    for flag in flags:
        if pending is not None:
            if pending:
                kept.append(flag)
            pending = None
            continue
        if not isinstance(flag, str):  # ("-include", "file.h") and the like
            items = list(flag)
            if items and items[0] in KEPT_WITH_VALUE:
                kept.append(flag)
            continue
        if flag in KEPT_WITH_VALUE or flag in DROPPED_WITH_VALUE:
            pending = flag in KEPT_WITH_VALUE
            if pending:
                kept.append(flag)
        elif flag.startswith(MACHINE_PREFIXES):
            kept.append(flag)
    return kept


def _cxx_std(flags: Iterable[Any]) -> Optional[str]:
    found = [f for f in flags if isinstance(f, str) and f.startswith("-std=")]
    return found[-1][len("-std=") :] if found else None


def _below_cxx17(std: str) -> bool:
    match = re.fullmatch(r"(?:c|gnu)\+\+(\d\w)", std)
    return match is not None and match.group(1) in ("98", "03", "0x", "11", "1y", "14")


def apply_public_flags(env: Any, includes: Iterable[Path], defines: Iterable[sel.Define]) -> None:
    """TFLM's public include folders and defines for code that includes its headers. The C++
    standard is raised to gnu++17 (TFLM's headers need it) only when the env's is older."""
    env.AppendUnique(CPPPATH=[str(p) for p in includes])
    env.AppendUnique(CPPDEFINES=[d if v is None else (d, v) for d, v in defines])
    flags = env.get("CXXFLAGS", [])
    std = _cxx_std(flags)
    if std is None or _below_cxx17(std):
        env.Replace(CXXFLAGS=_strip(flags, "-std=") + [f"-std={sel.CXX_STD}"])


def library_env(env: Any, selection: sel.Selection, extra_flags: Iterable[str] = ()) -> Any:
    """The env that compiles TFLM: ``env``'s tools and machine flags, TFLM's own settings."""
    lib_env = env.Clone()
    lib_env.Replace(
        CPPPATH=[str(p) for p in selection.include_dirs],
        CPPDEFINES=[d if v is None else (d, v) for d, v in selection.defines],
        CCFLAGS=machine_flags(lib_env.get("CCFLAGS", [])),
        CFLAGS=[*machine_flags(lib_env.get("CFLAGS", [])), f"-std={sel.C_STD}"],
        CXXFLAGS=[
            *machine_flags(lib_env.get("CXXFLAGS", [])),
            f"-std={sel.CXX_STD}",
            *sel.TFLM_CXXFLAGS,
        ],
        CPPFLAGS=machine_flags(lib_env.get("CPPFLAGS", [])),
    )
    if extra_flags:
        lib_env.MergeFlags(list(extra_flags))
    return lib_env


def variant_key(choice: KernelChoice, ops: Iterable[str], trees: sel.SourceTrees) -> str:
    """Short stable hash of what decides the objects besides the compiler flags."""
    text = "\n".join([choice.kernels, *sorted(set(ops)), *(str(p) for p in vars(trees).values())])
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _sources_cache(env: Any) -> Optional[Path]:
    core_dir = env.subst("$PROJECT_CORE_DIR") if "PROJECT_CORE_DIR" in env else ""
    return Path(core_dir) / "tinyml" / "sources" if core_dir else None


def resolve_trees(
    env: Any,
    kernels: str,
    *,
    option_dir: Optional[str] = None,
    accept_other_version: bool = False,
    log: Callable[[str], None] = print,
) -> sel.SourceTrees:
    """Trees in the documented lookup order; downloads go to
    ``$PROJECT_CORE_DIR/tinyml/sources``."""
    return src.resolve_sources(
        kernels=kernels,
        option_dir=option_dir,
        cache_dir=_sources_cache(env),
        download=download_archive,
        accept_other_version=accept_other_version,
        log=log,
    )


KEY_VARIABLES = (
    "CCFLAGS", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "_CPPDEFFLAGS", "_CPPINCFLAGS",
    "CCCOM", "CXXCOM", "ARCOM", "RANLIBCOM",
)  # fmt: skip


def build_inputs(
    lib_env: Any,
    selection: sel.Selection,
    ops: Iterable[str],
    *,
    kernel_opt: str,
    overlay: Path,
    overlay_files: dict[str, str],
    memo: Optional[Path] = None,
) -> build_cache.BuildInputs:
    """Everything that reaches the compile commands of ``lib_env``, for the cache key
    (``memo``: where compiler versions are remembered)."""
    marker = str(overlay)

    def expand(text: str) -> str:
        return str(lib_env.subst(text)).replace(marker, "<flatbuffers-overlay>")

    compilers = []
    for tool in ("CC", "CXX", "AR"):
        name = expand(f"${tool}")
        path = lib_env.WhereIs(name) or name
        compilers.append((os.path.realpath(path), build_cache.compiler_version(path, memo)))
    headers_dirs = [p for p in selection.include_dirs if p != overlay]
    return build_cache.BuildInputs(
        compilers=tuple(compilers),
        flags=tuple((v, expand(f"${v}")) for v in KEY_VARIABLES),
        kernels=selection.kernels,
        kernel_opt=kernel_opt,
        core_opt=CORE_OPT,
        ops=tuple(sorted(set(ops))),
        sources=tuple((s.obj, str(s.path), _opt(s, kernel_opt)) for s in selection.sources),
        files=tuple(build_cache.file_stats([s.path for s in selection.sources], headers_dirs)),
        generated=build_cache.text_digests(overlay_files),
    )


def _opt(source: sel.Source, kernel_opt: str) -> str:
    return CORE_OPT if source.group == "runtime" else kernel_opt


def _publish_action(
    cache_root: Path, key: str, manifest: dict[str, Any], log: Callable[[str], None]
) -> Callable[..., int]:
    def publish(target: Any, source: Any, env: Any) -> int:  # noqa: ARG001 (SCons signature)
        try:
            build_cache.publish(cache_root, key, Path(target[0].get_abspath()), manifest)
        except (OSError, BuildFolderError) as exc:  # a read-only or full cache: not fatal
            print(f"Warning! TinyML: could not store TFLite Micro in {cache_root}: {exc}")
            return 0
        log(f"TFLite Micro: stored build {key[:12]} in the shared cache")
        return 0

    return publish


def _silent(*_args: Any, **_kwargs: Any) -> None:
    """SCons prints a Python action as its call; the action logs its own line."""


def overlay_dir(env: Any) -> Path:
    """Where the patched flatbuffers headers go: one folder per env build, whatever the ops
    (so the IDE data can name it before the first build)."""
    return Path(env.subst("$BUILD_DIR")) / "tinyml-flatbuffers" / "include"


def _built_for(cache_root: Path, key: str) -> str:
    """The board named in the cache entry's record, as " (first built for <board>)"."""
    record = build_cache.entry_dir(cache_root, key) / build_cache.MARKER
    try:
        board = json.loads(record.read_text(encoding="utf-8")).get("board")
    except (OSError, ValueError, AttributeError):
        return ""
    return f" (first built for {board})" if isinstance(board, str) and board else ""


@dataclass(frozen=True)
class LinkedLibrary:
    """What add_tflm_library linked: its environment, the archive (an SCons node when built
    by this build, a path when taken from the shared cache) and its cache key."""

    lib_env: Any
    archive: Any
    key: str


def add_tflm_library(
    env: Any,
    *,
    ops: Iterable[str],
    choice: KernelChoice,
    kernel_opt: str = KERNEL_OPT,
    library_flags: Iterable[str] = (),
    log: Callable[[str], None] = print,
    project_envs: Iterable[Any] = (),
    option_dir: Optional[str] = None,
    accept_other_version: bool = False,
    aot: bool = False,
) -> LinkedLibrary:
    """Build TFLM for ``ops`` into ``$BUILD_DIR/tinyml-tflm-<key>/`` and link it into ``env``,
    or link the archive a previous build made from the same inputs (the shared cache in
    ``$PROJECT_CORE_DIR/tinyml/tflm-lib/``).

    ``choice`` is the env's kernel choice (made once, from the board, in the config);
    ``kernel_opt`` the optimization flag of kernel and CMSIS-NN sources (the rest: ``-Os``);
    ``library_flags`` extra flags for the library alone. ``env`` and every env of
    ``project_envs`` get TFLM's public include folders and defines (``apply_public_flags``).
    ``aot``: the ahead-of-time runtime's library, no interpreter (``sel.aot_library``).
    """
    ops = list(dict.fromkeys(ops))
    trees = resolve_trees(
        env, choice.kernels, option_dir=option_dir,
        accept_other_version=accept_other_version, log=log,
    )  # fmt: skip
    variant = variant_key(choice, [*ops, "(aot)"] if aot else ops, trees)
    build_dir = Path(env.subst("$BUILD_DIR")) / f"{LIBRARY_NAME}-{variant}"
    overlay_files = flatbuffers_patch.patched_headers(trees)  # parsed and applied once
    overlay = flatbuffers_patch.write_overlay(overlay_files, overlay_dir(env))
    selection = sel.select(
        trees, ops, choice.kernels, overlay_include=overlay, memo=build_dir / "cmsis-nn-files.json"
    )
    if aot:
        selection = sel.aot_library(selection)
    lib_env = library_env(env, selection, library_flags)

    core_dir = env.subst("$PROJECT_CORE_DIR") if "PROJECT_CORE_DIR" in env else ""
    cache_root = Path(core_dir) / "tinyml" / "tflm-lib" if core_dir else None
    key = ""
    cached: Optional[Path] = None
    if cache_root is not None:
        inputs = build_inputs(
            lib_env, selection, ops, kernel_opt=kernel_opt, overlay=overlay,
            overlay_files=overlay_files, memo=cache_root / "compilers.json",
        )  # fmt: skip
        key = build_cache.cache_key(inputs)
        build_cache.write_inputs(build_dir / "cache-key.json", key, inputs)
        cached = build_cache.lookup(cache_root, key)

    public = sel.public_include_dirs(trees, overlay)
    for target_env in (env, *project_envs):
        apply_public_flags(target_env, public, sel.public_defines(choice.kernels))
    if cached is not None and cache_root is not None:
        archive = env.File(str(cached))
        env.Append(LIBS=[archive])
        log(f"TFLite Micro: reusing cached build {key[:12]}{_built_for(cache_root, key)}")
        return LinkedLibrary(lib_env, archive, key)

    objects = []
    for source in selection.sources:
        target = str(build_dir / source.obj)
        objects += lib_env.Object(target=target, source=str(source.path), CCFLAGS=[
            *lib_env["CCFLAGS"], _opt(source, kernel_opt)])  # fmt: skip
    library = lib_env.StaticLibrary(target=str(build_dir / LIBRARY_NAME), source=objects)
    if cache_root is not None:
        manifest = {
            "board": str(env.subst("$BOARD")) if "BOARD" in env else "native",
            "cpu": choice.cpu, "kernels": choice.kernels, "kernel_opt": kernel_opt,
            "ops": sorted(set(ops)), "sources": selection.count(), "tflm": TFLM_COMMIT,
            "aot": aot,
        }  # fmt: skip
        # SCons' own AddPostAction: PlatformIO's wrapper defers actions on files that do not
        # exist yet to the global env, where a cloned env's action would never run.
        from SCons.Action import Action
        from SCons.Environment import Base

        publish = Action(_publish_action(cache_root, key, manifest, log), strfunction=_silent)
        Base.AddPostAction(lib_env, library, publish)
    env.Append(LIBS=library)
    if aot:
        what = "CMSIS-NN" if choice.cmsis_nn else "TFLite Micro's reference kernels"
        log(
            f"{what} for the ahead-of-time code: {selection.count()} sources, "
            f"no interpreter, {choice.summary}"
        )
        return LinkedLibrary(lib_env, library, key)
    log(
        f"TFLite Micro {TFLM_COMMIT[:8]}: {selection.count()} sources "
        f"({selection.count('runtime')} runtime, {selection.count('kernels')} kernels, "
        f"{selection.count('cmsis-nn')} CMSIS-NN), {choice.summary}"
    )
    return LinkedLibrary(lib_env, library, key)


def add_ide_flags(
    envs: Iterable[Any],
    choice: KernelChoice,
    *,
    option_dir: Optional[str] = None,
    accept_other_version: bool = False,
) -> bool:
    """For an IDE data dump (``pio project metadata``, ``idedata``): TFLM's public include
    folders and defines, without downloading or building anything. False when the sources
    are not on this machine yet (the first build fetches them)."""
    envs = list(envs)
    if not envs:
        return False
    try:
        trees = src.resolve_sources(
            kernels=choice.kernels,
            option_dir=option_dir,
            cache_dir=_sources_cache(envs[0]),
            download=None,
            accept_other_version=accept_other_version,
        )
    except TinyMLError:
        return False
    public = sel.public_include_dirs(trees, overlay_dir(envs[0]))
    for target_env in envs:
        apply_public_flags(target_env, public, sel.public_defines(choice.kernels))
    return True
