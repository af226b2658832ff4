"""The op table and the source selection against the pinned TFLM / CMSIS-NN trees (read, not
built): every registration and source the table names exists, the selection's counts, and the
CMSIS-NN call graph of person_detect's kernels."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformio_plugin.tflm import cmsis_nn_calls, op_table
from platformio_plugin.tflm import selection as sel

pytestmark = pytest.mark.target


def test_table_matches_pinned_header(tflm_root: Path) -> None:
    header = (tflm_root / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text()
    assert op_table.check_against_header(header) == []


def test_every_listed_source_exists(tflm_root: Path) -> None:
    ops = (*op_table.BUILTIN_OPS.values(), *op_table.CUSTOM_OPS.values())
    missing = [src for op in ops for src in op.sources if not (tflm_root / src).is_file()]
    assert missing == []
    for op in op_table.BUILTIN_OPS.values():
        if op.int8_registration:
            symbol = op.int8_registration.split("::")[-1].rstrip("()")
            kernel = Path(op.sources[0]).name
            text = (tflm_root / "tensorflow/lite/micro/kernels/cmsis_nn" / kernel).read_text()
            assert f"TFLMRegistration {symbol}()" in text, op.name


def test_counts_on_pinned_tree(sources_root: Path) -> None:
    from platformio_plugin.tflm.sources import resolve_sources

    trees = resolve_sources(kernels="cmsis-nn", option_dir=str(sources_root), environ={})
    person = ["AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "RESHAPE", "SOFTMAX"]
    assert sel.select(trees, ["FULLY_CONNECTED"], "reference").count() == 43
    assert sel.select(trees, person, "reference").count() == 51
    assert sel.select(trees, person, "cmsis-nn").count("cmsis-nn") > 0


def test_call_graph_on_pinned_tree(sources_root: Path, tmp_path: Path) -> None:
    """On the pinned trees: every call resolves, the files are a strict subset of the groups
    TFLM compiles, and they hold what person_detect's kernels run."""
    from platformio_plugin.tflm.sources import resolve_sources

    trees = resolve_sources(kernels="cmsis-nn", option_dir=str(sources_root), environ={})
    assert trees.cmsis_nn is not None
    person = ["AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "RESHAPE", "SOFTMAX"]
    kernel_rels = sel.kernel_sources(trees.tflm, person, "cmsis-nn")
    nn_kernels = [trees.tflm / r for r in kernel_rels if "/cmsis_nn/" in r]
    reach = cmsis_nn_calls.reachable_files(trees.cmsis_nn, nn_kernels)
    assert reach.unresolved == ()
    groups = sel.cmsis_nn_sources(trees.cmsis_nn, sel.cmsis_nn_groups(kernel_rels))
    assert set(reach.files) < set(groups)
    for needed in ("ConvolutionFunctions/arm_convolve_s8.c",
                   "ConvolutionFunctions/arm_depthwise_conv_s8_opt.c",
                   "ConvolutionFunctions/arm_nn_mat_mult_kernel_s8_s16.c",
                   "NNSupportFunctions/arm_nn_mat_mult_nt_t_s8.c",
                   "PoolingFunctions/arm_avgpool_s8.c",
                   "SoftmaxFunctions/arm_softmax_s8.c",
                   "NNSupportFunctions/arm_nntables.c"):  # fmt: skip
        assert f"Source/{needed}" in reach.files, needed
    assert not any("FullyConnected" in f or "LSTM" in f for f in reach.files)
    memo = tmp_path / "memo.json"
    assert cmsis_nn_calls.reachable_files(trees.cmsis_nn, nn_kernels, memo) == reach
    assert cmsis_nn_calls.reachable_files(trees.cmsis_nn, nn_kernels, memo) == reach  # memo read
