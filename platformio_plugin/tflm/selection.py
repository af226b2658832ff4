"""Which upstream source files a build compiles, from a TFLM tree, an op set and a kernel choice.

Pure: it lists directories and reads the CMSIS-NN and kernel C sources. Mirrors TFLM's own
Makefile (``tools/make/sources.inc``, ``ext_libs/cmsis_nn.inc``):

- runtime: ``tensorflow/lite/micro/{,arena_allocator/,memory_planner/,tflite_bridge/}*.cc`` and
  the shared TFLite sources under ``tensorflow/`` (outside ``lite/micro`` and
  ``lite/experimental``), without tests, benchmarks, test helpers and ``lite/array.cc``;
  ``debug_log.cc`` is left out because the runtime in ``src/tinyml`` provides ``DebugLog``;
- kernels: only those the ops need (``op_table``), plus ``kernel_util.cc`` and
  ``micro_tensor_utils.cc``; with CMSIS-NN a file of the same name in ``kernels/cmsis_nn/``
  replaces the reference one (TFLM's ``specialize_files.py`` rule);
- CMSIS-NN: of the integer C sources (no ``*_f16.c``, ``*_f32.c``, ``arm_nntables_flt.c``), only
  those defining a function the selected CMSIS-NN kernels reach through their calls
  (``cmsis_nn_calls``); TFLM compiles every file of each function group used.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Iterable, Optional

from ..errors import SourcesError, UnsupportedOpsError
from . import cmsis_nn_calls, op_table

MICRO: Final = "tensorflow/lite/micro"
KERNELS: Final = f"{MICRO}/kernels"
CMSIS_NN_KERNELS: Final = f"{KERNELS}/cmsis_nn"

_RUNTIME_DIRS: Final = (MICRO, f"{MICRO}/arena_allocator", f"{MICRO}/memory_planner",
                        f"{MICRO}/tflite_bridge")  # fmt: skip
# Sources of the micro runtime that belong to TFLM's tests or are replaced by src/tinyml.
_RUNTIME_EXCLUDED: Final = frozenset(
    {
        "debug_log.cc",
        "fake_micro_context.cc",
        "mock_micro_graph.cc",
        "test_helpers.cc",
        "test_helper_custom_ops.cc",
    }
)
_SHARED_EXCLUDED_DIRS: Final = (f"{MICRO}/", "tensorflow/lite/experimental/")
_SHARED_EXCLUDED: Final = frozenset({"tensorflow/lite/array.cc"})
KERNEL_HELPERS: Final = (f"{KERNELS}/kernel_util.cc", f"{KERNELS}/micro_tensor_utils.cc")

# CMSIS-NN function groups (folders of Source/) each TFLM cmsis_nn kernel calls, and the
# groups those groups call in turn (checked against the pinned trees by the tests).
CMSIS_NN_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "add.cc": ("BasicMathFunctions",),
    "batch_matmul.cc": ("FullyConnectedFunctions",),
    "conv.cc": ("ConvolutionFunctions",),
    "depthwise_conv.cc": ("ConvolutionFunctions",),
    "fully_connected.cc": ("ConvolutionFunctions", "FullyConnectedFunctions"),
    "maximum_minimum.cc": ("BasicMathFunctions",),
    "mul.cc": ("BasicMathFunctions",),
    "pad.cc": ("PadFunctions",),
    "pooling.cc": ("PoolingFunctions",),
    "softmax.cc": ("SoftmaxFunctions",),
    "svdf.cc": ("FullyConnectedFunctions", "SVDFunctions"),
    "transpose.cc": ("TransposeFunctions",),
    "transpose_conv.cc": ("ConvolutionFunctions",),
    "unidirectional_sequence_lstm.cc": ("FullyConnectedFunctions", "LSTMFunctions"),
}
CMSIS_NN_ALWAYS: Final = ("NNSupportFunctions", "BasicMathFunctions", "ActivationFunctions")
CMSIS_NN_GROUP_DEPS: Final[dict[str, tuple[str, ...]]] = {
    "ConvolutionFunctions": ("TransposeFunctions",),
}

CXX_STD: Final = "gnu++17"
C_STD: Final = "gnu11"
# C++ flags TFLM is built with (tools/make/Makefile); the project's own C++ keeps its flags.
TFLM_CXXFLAGS: Final = ("-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")


Define = tuple[str, Optional[str]]
# Defines that change what TFLM's headers declare (struct layouts, the CMSIS-NN kernel
# variants of kernels/*.h): every file that includes them needs the same set.
BASE_DEFINES: Final[tuple[Define, ...]] = (
    ("TF_LITE_STATIC_MEMORY", None),
    ("TF_LITE_DISABLE_X86_NEON", None),
    ("FLATBUFFERS_LOCALE_INDEPENDENT", "0"),
)
CMSIS_NN_DEFINE: Final[Define] = ("CMSIS_NN", None)
# Read by CMSIS-NN's own sources only.
CMSIS_NN_INTERNAL_DEFINES: Final[tuple[Define, ...]] = (
    ("ARM_NN_ENABLE_F16", "0"),
    ("ARM_NN_ENABLE_F32", "0"),
)


@dataclass(frozen=True)
class SourceTrees:
    """Roots of the unpacked upstream trees (see sources.py for how they are found)."""

    tflm: Path
    flatbuffers: Path
    gemmlowp: Path
    ruy: Path
    cmsis_nn: Optional[Path] = None
    cmsis: Optional[Path] = None


@dataclass(frozen=True)
class Source:
    """One file to compile."""

    path: Path
    group: str  # "runtime", "kernels" or "cmsis-nn"
    obj: str  # object path, unique across trees: "<tree>/<path without suffix>"


@dataclass(frozen=True)
class Selection:
    """Everything the build needs: files, include directories, preprocessor defines."""

    sources: tuple[Source, ...]
    include_dirs: tuple[Path, ...]
    defines: tuple[tuple[str, Optional[str]], ...]
    kernels: str

    def files(self, group: str) -> list[Path]:
        return [s.path for s in self.sources if s.group == group]

    def count(self, group: Optional[str] = None) -> int:
        return sum(1 for s in self.sources if group is None or s.group == group)


def _is_test(name: str) -> bool:
    stem = name.rsplit(".", 1)[0]
    return stem.endswith("_test") or "_test_" in stem


def runtime_sources(tflm: Path) -> list[str]:
    """TFLM runtime sources relative to ``tflm`` (see module docstring)."""
    out: list[str] = []
    for rel_dir in _RUNTIME_DIRS:
        folder = tflm / rel_dir
        for path in sorted(folder.glob("*.cc")):
            if not _is_test(path.name) and path.name not in _RUNTIME_EXCLUDED:
                out.append(f"{rel_dir}/{path.name}")
    shared: list[str] = []
    for walked, dirs, names in os.walk(tflm / "tensorflow"):
        rel_dir = Path(walked).relative_to(tflm).as_posix()
        # Excluded folders are not even listed: this runs on every build.
        dirs[:] = [d for d in dirs if not f"{rel_dir}/{d}/".startswith(_SHARED_EXCLUDED_DIRS)]
        for name in names:
            rel = f"{rel_dir}/{name}"
            if name.endswith((".cc", ".c")) and rel not in _SHARED_EXCLUDED and not _is_test(name):
                shared.append(rel)
    return out + sorted(shared, key=lambda rel: rel.split("/"))  # as Path sorting did


def kernel_sources(tflm: Path, ops: Iterable[str], kernels: str) -> list[str]:
    """Kernel sources for ``ops`` relative to ``tflm``, CMSIS-NN files replacing reference ones."""
    names = list(dict.fromkeys(ops))
    missing = op_table.unsupported(names)
    if missing:
        raise UnsupportedOpsError(
            "the op list",
            [("-", name) for name in missing],
            hint="Check the op names against platformio_plugin/tflm/op_table.py.",
        )
    needs = sorted({tp for n in names for tp in getattr(op_table.lookup(n), "third_party", ())})
    if needs:
        raise SourcesError(
            f"ops {', '.join(n for n in names if getattr(op_table.lookup(n), 'third_party', ()))} "
            f"need {', '.join(needs)}, which pio-tinyml does not provide",
            hint="Remove these signal ops from the model or build them in your own project.",
        )
    out: list[str] = []
    for rel in [*KERNEL_HELPERS, *op_table.sources_for(names)]:
        if kernels == "cmsis-nn" and rel.startswith(KERNELS + "/") and rel.count("/") == 4:
            special = f"{CMSIS_NN_KERNELS}/{rel.rsplit('/', 1)[1]}"
            if (tflm / special).is_file():
                rel = special
        if rel not in out:
            out.append(rel)
    return out


def cmsis_nn_groups(kernel_files: Iterable[str]) -> list[str]:
    """CMSIS-NN Source/ folders needed by the given (TFLM-relative) kernel files."""
    groups: list[str] = list(CMSIS_NN_ALWAYS)
    for rel in kernel_files:
        if rel.startswith(CMSIS_NN_KERNELS + "/"):
            groups.extend(CMSIS_NN_GROUPS.get(rel.rsplit("/", 1)[1], ()))
    i = 0
    while i < len(groups):
        groups.extend(CMSIS_NN_GROUP_DEPS.get(groups[i], ()))
        i += 1
    return sorted(set(groups))


def cmsis_nn_sources(cmsis_nn: Path, groups: Iterable[str]) -> list[str]:
    """C sources (relative to the CMSIS-NN root) of the given groups, without float variants."""
    out: list[str] = []
    for group in groups:
        for path in sorted((cmsis_nn / "Source" / group).glob("*.c")):
            if path.name.endswith(("_f16.c", "_f32.c")) or path.name == "arm_nntables_flt.c":
                continue
            out.append(path.relative_to(cmsis_nn).as_posix())
    return out


def cmsis_nn_needed(
    cmsis_nn: Path, tflm: Path, kernel_rels: Iterable[str], memo: Optional[Path] = None
) -> list[str]:
    """The CMSIS-NN C files the selected kernels reach through their calls; the whole function
    groups when the call graph cannot account for a call (see cmsis_nn_calls)."""
    kernel_rels = list(kernel_rels)
    nn_kernels = [tflm / rel for rel in kernel_rels if rel.startswith(CMSIS_NN_KERNELS + "/")]
    reach = cmsis_nn_calls.reachable_files(cmsis_nn, nn_kernels, memo)
    if reach.unresolved:
        return cmsis_nn_sources(cmsis_nn, cmsis_nn_groups(kernel_rels))
    return list(reach.files)


def _obj(tree: str, rel: str) -> str:
    return f"{tree}/{rel.rsplit('.', 1)[0]}"


def public_include_dirs(trees: SourceTrees, overlay_include: Optional[Path] = None) -> list[Path]:
    """What code including TFLM's headers (``tinyml/model.h``, the generated headers) needs on
    its include path: TFLM and the header-only libraries its headers include. CMSIS is not
    among them (only the kernels include it), so a framework's own CMSIS stays unshadowed."""
    includes: list[Path] = [trees.tflm]
    if overlay_include is not None:
        includes.append(overlay_include)
    return [*includes, trees.flatbuffers / "include", trees.gemmlowp, trees.ruy]


def public_defines(kernels: str) -> tuple[Define, ...]:
    """Defines every file including TFLM's headers must share with the library's build."""
    return BASE_DEFINES + ((CMSIS_NN_DEFINE,) if kernels == "cmsis-nn" else ())


def select(
    trees: SourceTrees,
    ops: Iterable[str],
    kernels: str,
    *,
    overlay_include: Optional[Path] = None,
    memo: Optional[Path] = None,
) -> Selection:
    """The sources, include directories and defines for ``ops`` with ``kernels``.

    ``overlay_include`` is a directory searched before flatbuffers' own ``include/`` (the
    patched flatbuffers headers, see sources.py); ``memo`` a file where the CMSIS-NN call
    graph's answer is kept between builds.
    """
    if kernels not in ("cmsis-nn", "reference"):
        raise ValueError(kernels)
    if kernels == "cmsis-nn" and (trees.cmsis_nn is None or trees.cmsis is None):
        raise SourcesError("CMSIS-NN kernels chosen but the CMSIS-NN / CMSIS_6 trees are missing")
    runtime = runtime_sources(trees.tflm)
    sources = [Source(trees.tflm / rel, "runtime", _obj("tflm", rel)) for rel in runtime]
    kernel_rels = kernel_sources(trees.tflm, ops, kernels)
    sources += [Source(trees.tflm / rel, "kernels", _obj("tflm", rel)) for rel in kernel_rels]
    includes = public_include_dirs(trees, overlay_include)
    defines = list(public_defines(kernels))
    if kernels == "cmsis-nn":
        assert trees.cmsis_nn is not None and trees.cmsis is not None
        rels = cmsis_nn_needed(trees.cmsis_nn, trees.tflm, kernel_rels, memo)
        sources += [Source(trees.cmsis_nn / rel, "cmsis-nn", _obj("cmsis-nn", rel)) for rel in rels]
        includes += [
            trees.cmsis,
            trees.cmsis_nn,
            trees.cmsis / "CMSIS" / "Core" / "Include",
            trees.cmsis_nn / "Include",
        ]
        defines += CMSIS_NN_INTERNAL_DEFINES
    return Selection(tuple(sources), tuple(includes), tuple(defines), kernels)


# What TFLM's reference kernels (header-only templates) call out of line, and MicroPrintf.
AOT_REFERENCE_SOURCES: Final = frozenset(
    {
        "tensorflow/lite/kernels/internal/common.cc",
        "tensorflow/lite/kernels/internal/quantization_util.cc",
        "tensorflow/lite/kernels/internal/runtime_shape.cc",
        f"{MICRO}/micro_log.cc",
    }
)


def aot_library(selection: Selection) -> Selection:
    """The library of the ahead-of-time runtime (custom_tinyml_runtime = aot), no interpreter:
    with CMSIS-NN, CMSIS-NN's sources the kernels of the same ops would reach (the generated
    code calls CMSIS-NN directly); with reference kernels, the few TFLM sources their headers
    call out of line. The linker keeps only the functions the code calls."""
    if selection.kernels == "cmsis-nn":
        sources = tuple(s for s in selection.sources if s.group == "cmsis-nn")
    else:
        wanted = {_obj("tflm", rel) for rel in AOT_REFERENCE_SOURCES}
        sources = tuple(s for s in selection.sources if s.obj in wanted)
    return dataclasses.replace(selection, sources=sources)


def has_cmsis_nn_kernel(op: str) -> bool:
    """True when kernels/cmsis_nn/ holds a file replacing the op's reference kernel."""
    entry = op_table.BUILTIN_OPS.get(op)
    return entry is not None and entry.sources[0].rsplit("/", 1)[1] in CMSIS_NN_GROUPS


def kernel_of(op: str, kernels: str) -> str:
    """The kernel ``op`` runs on in a build with ``kernels``: "CMSIS-NN" or "reference"."""
    if kernels == "cmsis-nn" and has_cmsis_nn_kernel(op):
        return "CMSIS-NN"
    return "reference"
