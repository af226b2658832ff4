"""Build TFLite Micro (+ CMSIS-NN) for exactly a model's ops as a library of the board env.

The library is compiled with the env's own compiler and CPU flags (cloned after the
platform builder has set them): kernels and CMSIS-NN at ``-O2`` (option
``custom_tinyml_kernel_optimization``), the rest at ``-Os``, C++ as ``gnu++17`` without RTTI
and exceptions, against TFLM's own include directories only. Objects live in a variant
directory keyed by the kernel choice and the op set, so a second build of the same env
recompiles nothing; two trees' files of the same name (``common.cc``, ``kernel_util.cc``) keep
distinct objects because each object path mirrors its tree-relative source path.

Across projects, finished archives are shared through ``<core_dir>/tinyml/tflm-lib/<key>/``
(see ``build_cache.py``): a project whose compiler, flags, defines, kernels, op set and source
files give the same key links the cached archive and compiles nothing of TFLM.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from ..errors import BuildFolderError
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


def apply_tflm_flags(env: Any, selection: sel.Selection) -> None:
    """Include paths, defines and the C++ standard TFLM needs, for code that includes it."""
    env.AppendUnique(CPPPATH=[str(p) for p in selection.include_dirs])
    env.AppendUnique(CPPDEFINES=[d if v is None else (d, v) for d, v in selection.defines])
    env.Replace(CXXFLAGS=_strip(env.get("CXXFLAGS", []), "-std=") + [f"-std={sel.CXX_STD}"])


def variant_key(choice: KernelChoice, ops: Iterable[str], trees: sel.SourceTrees) -> str:
    """Short stable hash of what decides the objects besides the compiler flags."""
    text = "\n".join([choice.kernels, *sorted(set(ops)), *(str(p) for p in vars(trees).values())])
    return hashlib.sha256(text.encode()).hexdigest()[:10]


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
    core_dir = env.subst("$PROJECT_CORE_DIR") if "PROJECT_CORE_DIR" in env else ""
    return src.resolve_sources(
        kernels=kernels,
        option_dir=option_dir,
        cache_dir=Path(core_dir) / "tinyml" / "sources" if core_dir else None,
        download=download_archive,
        accept_other_version=accept_other_version,
        log=log,
    )


def _outside(path: str, roots: Iterable[str]) -> bool:
    real = os.path.realpath(path)
    return not any(real == r or real.startswith(r + os.sep) for r in roots)


def _isolate_includes(lib_env: Any) -> None:
    """Drop the project's own include directories (src/, include/, lib/, the build folder):
    TFLM never includes them, and they would make the build differ per project. Include
    directories of the toolchain or framework packages stay."""
    roots = [
        os.path.realpath(lib_env.subst(v))
        for v in ("$PROJECT_DIR", "$BUILD_DIR")
        if v[1:] in lib_env and lib_env.subst(v)
    ]
    kept = []
    for entry in lib_env.get("CPPPATH", []):
        path = lib_env.subst(str(entry)) if isinstance(entry, str) else str(entry)
        if path and _outside(path, roots):
            kept.append(entry)
    lib_env.Replace(CPPPATH=kept)


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


def add_tflm_library(
    env: Any,
    *,
    ops: Iterable[str],
    choice: KernelChoice,
    kernel_opt: str = KERNEL_OPT,
    log: Callable[[str], None] = print,
    extra_envs: Iterable[Any] = (),
    option_dir: Optional[str] = None,
    accept_other_version: bool = False,
) -> None:
    """Build TFLM for ``ops`` into ``$BUILD_DIR/tinyml-tflm-<key>/`` and link it into ``env``,
    or link the archive a previous project built with the same inputs (the shared cache in
    ``$PROJECT_CORE_DIR/tinyml/tflm-lib/``).

    ``choice`` is the env's kernel choice (made once, from the board, in the config);
    ``kernel_opt`` the optimization flag of kernel and CMSIS-NN sources (the rest: ``-Os``).
    ``env`` and every env of ``extra_envs`` get TFLM's include paths, defines and
    ``-std=gnu++17`` so that sources including TFLM headers compile against the same build.
    """
    ops = list(dict.fromkeys(ops))
    trees = resolve_trees(
        env, choice.kernels, option_dir=option_dir,
        accept_other_version=accept_other_version, log=log,
    )  # fmt: skip
    build_dir = Path(env.subst("$BUILD_DIR")) / f"{LIBRARY_NAME}-{variant_key(choice, ops, trees)}"
    overlay_files = flatbuffers_patch.patched_headers(trees)  # parsed and applied once
    overlay = flatbuffers_patch.write_overlay(overlay_files, build_dir / "include")
    selection = sel.select(
        trees, ops, choice.kernels, overlay_include=overlay, memo=build_dir / "cmsis-nn-files.json"
    )

    lib_env = env.Clone()
    _isolate_includes(lib_env)
    apply_tflm_flags(lib_env, selection)
    lib_env.Replace(CCFLAGS=_strip(lib_env.get("CCFLAGS", []), "-O"))
    lib_env.Replace(CFLAGS=_strip(lib_env.get("CFLAGS", []), "-std=") + [f"-std={sel.C_STD}"])
    lib_env.AppendUnique(CXXFLAGS=list(sel.TFLM_CXXFLAGS))

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

    for target_env in (env, *extra_envs):
        apply_tflm_flags(target_env, selection)
    if cached is not None:
        env.Append(LIBS=[env.File(str(cached))])
        log(f"TFLite Micro: reusing cached build {key[:12]}")
        return

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
        }  # fmt: skip
        # SCons' own AddPostAction: PlatformIO's wrapper defers actions on files that do not
        # exist yet to the global env, where a cloned env's action would never run.
        from SCons.Action import Action
        from SCons.Environment import Base

        publish = Action(_publish_action(cache_root, key, manifest, log), strfunction=_silent)
        Base.AddPostAction(lib_env, library, publish)
    env.Append(LIBS=library)
    log(
        f"TFLite Micro {TFLM_COMMIT[:8]}: {selection.count()} sources "
        f"({selection.count('runtime')} runtime, {selection.count('kernels')} kernels, "
        f"{selection.count('cmsis-nn')} CMSIS-NN), {choice.summary}"
    )
