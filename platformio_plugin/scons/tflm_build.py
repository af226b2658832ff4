"""Build TFLite Micro (+ CMSIS-NN) for exactly a model's ops as a library of the board env.

The library is compiled with the env's own compiler and CPU flags (cloned after the
platform builder has set them): kernels and CMSIS-NN at ``-O2``, the rest at ``-Os``, C++ as
``gnu++17`` without RTTI and exceptions. Objects live in a variant directory keyed by the
kernel choice and the op set, so a second build of the same env recompiles nothing; two
trees' files of the same name (``common.cc``, ``kernel_util.cc``) keep distinct objects
because each object path mirrors its tree-relative source path.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from ..errors import SourcesError
from ..tflm import selection as sel
from ..tflm import sources as src
from ..tflm.cpu import KernelChoice, choose_kernels

LIBRARY_NAME = "tinyml-tflm"
KERNEL_OPT = "-O2"
CORE_OPT = "-Os"


def board_cpu(env: Any) -> tuple[str, str, str]:
    """(board id, build.cpu, build.mcu) of a PlatformIO env; empty strings elsewhere."""
    try:
        board = env.BoardConfig()
    except Exception:  # plain SCons env or a board-less (native) env
        return ("native", str(env.get("TINYML_CPU", "")), "")
    return (
        str(env.subst("$BOARD")) or "native",
        str(board.get("build.cpu", "")),
        str(board.get("build.mcu", "")),
    )


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


def platformio_downloader(url: str, checksum: Optional[str], dest: Path) -> Path:
    """Download with PlatformIO's FileDownloader (checksum verified) and unpack into ``dest``."""
    import tempfile

    from platformio.package.download import FileDownloader
    from platformio.package.unpack import FileUnpacker

    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        downloader = FileDownloader(url, tmp)
        downloader.start(with_progress=False, silent=True)
        downloader.verify(checksum)
        unpack_dir = Path(tmp) / "unpacked"
        unpack_dir.mkdir()
        with FileUnpacker(downloader.get_filepath()) as unpacker:
            unpacker.unpack(str(unpack_dir), with_progress=False, silent=True)
        children = [c for c in unpack_dir.iterdir() if c.is_dir()]
        if len(children) != 1:
            raise SourcesError(f"{url} did not unpack to a single folder")
        target = dest / children[0].name
        if not target.exists():
            os.replace(children[0], target)
        return target


def resolve_trees(
    env: Any,
    kernels: str,
    *,
    sources_root: Optional[Path] = None,
    option_dir: Optional[str] = None,
    accept_other_version: bool = False,
    log: Callable[[str], None] = print,
) -> sel.SourceTrees:
    """Trees from ``sources_root`` if given, else the documented lookup order; downloads go
    to ``$PROJECT_CORE_DIR/tinyml/sources`` through PlatformIO's own downloader."""
    if sources_root is not None:
        return src.resolve_sources(
            kernels=kernels, option_dir=str(sources_root), environ={},
            accept_other_version=accept_other_version, log=log,
        )  # fmt: skip
    core_dir = env.subst("$PROJECT_CORE_DIR") if "PROJECT_CORE_DIR" in env else ""
    return src.resolve_sources(
        kernels=kernels,
        option_dir=option_dir,
        cache_dir=Path(core_dir) / "tinyml" / "sources" if core_dir else None,
        download=platformio_downloader,
        accept_other_version=accept_other_version,
        log=log,
    )


def add_tflm_library(
    env: Any,
    *,
    ops: Iterable[str],
    kernels: str = "auto",
    sources_root: Optional[Path] = None,
    log: Callable[[str], None] = print,
    extra_envs: Iterable[Any] = (),
    option_dir: Optional[str] = None,
    accept_other_version: bool = False,
) -> KernelChoice:
    """Build TFLM for ``ops`` into ``$BUILD_DIR/tinyml-tflm-<key>/`` and link it into ``env``.

    ``kernels`` is ``auto|cmsis-nn|reference`` (auto: from the board's ``build.cpu``).
    ``env`` and every env of ``extra_envs`` get TFLM's include paths, defines and
    ``-std=gnu++17`` so that sources including TFLM headers compile against the same build.
    """
    ops = list(dict.fromkeys(ops))
    board, cpu, mcu = board_cpu(env)
    choice = choose_kernels(board=board, cpu=cpu, mcu=mcu, option=kernels)
    trees = resolve_trees(
        env, choice.kernels, sources_root=sources_root, option_dir=option_dir,
        accept_other_version=accept_other_version, log=log,
    )  # fmt: skip
    build_dir = Path(env.subst("$BUILD_DIR")) / f"{LIBRARY_NAME}-{variant_key(choice, ops, trees)}"
    overlay = src.write_flatbuffers_overlay(trees, build_dir / "include")
    selection = sel.select(trees, ops, choice.kernels, overlay_include=overlay)

    lib_env = env.Clone()
    apply_tflm_flags(lib_env, selection)
    lib_env.Replace(CCFLAGS=_strip(lib_env.get("CCFLAGS", []), "-O"))
    lib_env.Replace(CFLAGS=_strip(lib_env.get("CFLAGS", []), "-std=") + [f"-std={sel.C_STD}"])
    lib_env.AppendUnique(CXXFLAGS=list(sel.TFLM_CXXFLAGS))
    objects = []
    for source in selection.sources:
        opt = CORE_OPT if source.group == "runtime" else KERNEL_OPT
        target = str(build_dir / source.obj)
        objects += lib_env.Object(target=target, source=str(source.path), CCFLAGS=[
            *lib_env["CCFLAGS"], opt])  # fmt: skip
    library = lib_env.StaticLibrary(target=str(build_dir / LIBRARY_NAME), source=objects)

    for target_env in (env, *extra_envs):
        apply_tflm_flags(target_env, selection)
    env.Append(LIBS=library)
    log(
        f"TFLite Micro {src.TFLM_COMMIT[:8]}: {selection.count()} sources "
        f"({selection.count('runtime')} runtime, {selection.count('kernels')} kernels, "
        f"{selection.count('cmsis-nn')} CMSIS-NN), {choice.summary}"
    )
    return choice
