from __future__ import annotations

from pathlib import Path

import pytest

from platformio_plugin.errors import SourcesError, UnsupportedOpsError
from platformio_plugin.tflm import selection as sel

FILES = [
    "tensorflow/lite/micro/micro_interpreter.cc",
    "tensorflow/lite/micro/micro_interpreter_test.cc",
    "tensorflow/lite/micro/debug_log.cc",
    "tensorflow/lite/micro/test_helpers.cc",
    "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.cc",
    "tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc",
    "tensorflow/lite/micro/tflite_bridge/micro_error_reporter.cc",
    "tensorflow/lite/micro/examples/hello_world/main.cc",
    "tensorflow/lite/micro/tools/benchmarking/bench.cc",
    "tensorflow/lite/micro/cortex_m_generic/micro_time.cc",
    "tensorflow/lite/micro/kernels/kernel_util.cc",
    "tensorflow/lite/micro/kernels/micro_tensor_utils.cc",
    "tensorflow/lite/micro/kernels/conv.cc",
    "tensorflow/lite/micro/kernels/conv_common.cc",
    "tensorflow/lite/micro/kernels/conv_test.cc",
    "tensorflow/lite/micro/kernels/reshape.cc",
    "tensorflow/lite/micro/kernels/reshape_common.cc",
    "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc",
    "tensorflow/lite/kernels/kernel_util.cc",
    "tensorflow/lite/core/c/common.cc",
    "tensorflow/lite/kernels/internal/common.cc",
    "tensorflow/lite/array.cc",
    "tensorflow/lite/experimental/x.cc",
]
NN_FILES = [
    "Source/ConvolutionFunctions/arm_convolve_s8.c",
    "Source/ConvolutionFunctions/arm_convolve_f32.c",
    "Source/TransposeFunctions/arm_transpose_s8.c",
    "Source/NNSupportFunctions/arm_nntables.c",
    "Source/NNSupportFunctions/arm_nntables_flt.c",
    "Source/BasicMathFunctions/arm_elementwise_add_s8.c",
    "Source/ActivationFunctions/arm_relu6_s8.c",
    "Source/SoftmaxFunctions/arm_softmax_s8.c",
]


# C contents where a call graph matters: the CMSIS-NN conv kernel calls arm_convolve_s8, which
# calls arm_transpose_s8; nothing calls the softmax.
CONTENTS = {
    "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc": "void Eval() { arm_convolve_s8(0); }\n",
    "Source/ConvolutionFunctions/arm_convolve_s8.c": (
        "arm_cmsis_nn_status arm_convolve_s8(int x)\n{\n    arm_transpose_s8(x);\n}\n"
    ),
    "Source/TransposeFunctions/arm_transpose_s8.c": "void arm_transpose_s8(int x) { }\n",
    "Source/SoftmaxFunctions/arm_softmax_s8.c": "void arm_softmax_s8(void) { }\n",
}


def make_trees(tmp: Path) -> sel.SourceTrees:
    for rel in FILES:
        (tmp / "tflm" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "tflm" / rel).write_text(CONTENTS.get(rel, ""))
    for rel in NN_FILES:
        (tmp / "nn" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "nn" / rel).write_text(CONTENTS.get(rel, ""))
    return sel.SourceTrees(
        tmp / "tflm", tmp / "fb", tmp / "gl", tmp / "ruy", cmsis_nn=tmp / "nn", cmsis=tmp / "c6"
    )


def rels(selection: sel.Selection, group: str, root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in selection.files(group)]


@pytest.mark.unit
def test_reference_selection(tmp_path: Path) -> None:
    trees = make_trees(tmp_path)
    s = sel.select(trees, ["CONV_2D", "RESHAPE"], "reference")
    runtime = rels(s, "runtime", trees.tflm)
    assert "tensorflow/lite/micro/micro_interpreter.cc" in runtime
    assert "tensorflow/lite/kernels/kernel_util.cc" in runtime
    excluded_parts = ("_test.cc", "debug_log.cc", "test_helpers.cc", "examples/", "tools/")
    excluded_parts += ("cortex_m_generic/", "array.cc", "experimental/", "micro/kernels/")
    for excluded in excluded_parts:
        assert not any(excluded in r for r in runtime), excluded
    assert rels(s, "kernels", trees.tflm) == [
        "tensorflow/lite/micro/kernels/kernel_util.cc",
        "tensorflow/lite/micro/kernels/micro_tensor_utils.cc",
        "tensorflow/lite/micro/kernels/conv.cc",
        "tensorflow/lite/micro/kernels/conv_common.cc",
        "tensorflow/lite/micro/kernels/reshape.cc",
        "tensorflow/lite/micro/kernels/reshape_common.cc",
    ]
    assert s.count("cmsis-nn") == 0
    assert ("CMSIS_NN", None) not in s.defines
    assert ("TF_LITE_STATIC_MEMORY", None) in s.defines


@pytest.mark.unit
def test_cmsis_nn_replaces_same_named_kernels(tmp_path: Path) -> None:
    trees = make_trees(tmp_path)
    s = sel.select(trees, ["CONV_2D", "RESHAPE"], "cmsis-nn", overlay_include=tmp_path / "ov")
    kernels = rels(s, "kernels", trees.tflm)
    assert "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc" in kernels
    assert "tensorflow/lite/micro/kernels/conv.cc" not in kernels
    assert "tensorflow/lite/micro/kernels/conv_common.cc" in kernels
    assert "tensorflow/lite/micro/kernels/reshape.cc" in kernels  # no cmsis_nn/reshape.cc
    nn = rels(s, "cmsis-nn", tmp_path / "nn")
    assert "Source/ConvolutionFunctions/arm_convolve_s8.c" in nn
    assert "Source/TransposeFunctions/arm_transpose_s8.c" in nn  # called by arm_convolve_s8
    assert "Source/SoftmaxFunctions/arm_softmax_s8.c" not in nn  # no SOFTMAX op
    assert "Source/BasicMathFunctions/arm_elementwise_add_s8.c" not in nn  # same: nothing calls
    assert not any(r.endswith(("_f32.c", "arm_nntables_flt.c")) for r in nn)
    assert ("CMSIS_NN", None) in s.defines
    assert s.include_dirs[:2] == (trees.tflm, tmp_path / "ov")


@pytest.mark.unit
def test_object_paths_are_unique(tmp_path: Path) -> None:
    trees = make_trees(tmp_path)
    s = sel.select(trees, ["CONV_2D"], "cmsis-nn")
    objs = [x.obj for x in s.sources]
    assert len(objs) == len(set(objs))
    assert "tflm/tensorflow/lite/kernels/kernel_util" in objs
    assert "tflm/tensorflow/lite/micro/kernels/kernel_util" in objs
    assert "tflm/tensorflow/lite/micro/kernels/cmsis_nn/conv" in objs


@pytest.mark.unit
def test_unknown_and_unsupported_ops(tmp_path: Path) -> None:
    trees = make_trees(tmp_path)
    with pytest.raises(UnsupportedOpsError, match="FAKE_QUANT"):
        sel.select(trees, ["CONV_2D", "FAKE_QUANT"], "reference")
    with pytest.raises(SourcesError, match="kissfft"):
        sel.select(trees, ["SignalRfft"], "reference")


@pytest.mark.unit
def test_an_unaccounted_call_falls_back_to_whole_groups(tmp_path: Path) -> None:
    trees = make_trees(tmp_path)
    conv = trees.tflm / "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc"
    conv.write_text("void Eval() { arm_convolve_s8(0); arm_defined_nowhere(1); }\n")
    nn = rels(sel.select(trees, ["CONV_2D"], "cmsis-nn"), "cmsis-nn", trees.cmsis_nn)
    assert "Source/BasicMathFunctions/arm_elementwise_add_s8.c" in nn  # CMSIS_NN_ALWAYS group
    assert "Source/ActivationFunctions/arm_relu6_s8.c" in nn
