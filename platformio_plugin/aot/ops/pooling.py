"""AVERAGE_POOL_2D and MAX_POOL_2D, int8: ``arm_avgpool_s8`` / ``arm_max_pool_s8`` with the
parameters of TFLM's kernels/cmsis_nn/pooling.cc (PopulateCommonParams, AveragePrepare)."""

from __future__ import annotations

from .. import quant
from ..graph import Graph, Node
from .common import (
    NodeCode,
    Unsupported,
    activation_input,
    require_int8,
    shape_text,
    tensor_ref,
)


def _emit(node: Node, graph: Graph, dsp: bool, average: bool) -> NodeCode:
    source = activation_input(graph, node)
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    if len(source.shape) != 4 or len(output.shape) != 4:
        raise Unsupported("only 4-D inputs are generated")
    batches, in_h, in_w, depth = source.shape
    _, out_h, out_w, out_c = output.shape
    if out_c != depth:
        raise Unsupported("input and output depths differ")
    filter_h, filter_w = node.option("filter_h"), node.option("filter_w")
    values: dict[str, int] = {}
    for axis, image, size, out in (("h", in_h, filter_h, out_h), ("w", in_w, filter_w, out_w)):
        stride = node.option(f"stride_{axis}")
        expected = quant.output_size(node.option("padding"), image, size, stride, 1)
        if expected != out:
            raise Unsupported(f"output {axis} is {out}, TFLM computes {expected}")
        values[f"stride_{axis}"] = stride
        values[f"pad_{axis}"] = quant.padding(stride, 1, image, size, out)
    act_min, act_max = quant.activation_range(
        node.option("activation"), output.scale[0], output.zero_point[0]
    )
    # arm_avgpool_s8_get_buffer_size: ch_src int32 sums with DSP, none without (no MVE).
    scratch = depth * 4 if average and dsp else 0
    op = "AVERAGE_POOL_2D" if average else "MAX_POOL_2D"
    return NodeCode(
        template="aot_pool_2d",
        reference="aot_ref_avgpool_2d" if average else "aot_ref_max_pool_2d",
        values={
            **values,
            "function": "arm_avgpool_s8" if average else "arm_max_pool_s8",
            "act_min": act_min,
            "act_max": act_max,
            "batches": batches,
            "in_h": in_h,
            "in_w": in_w,
            "depth": depth,
            "filter_h": filter_h,
            "filter_w": filter_w,
            "out_h": out_h,
            "out_w": out_w,
            "input": tensor_ref(source.index),
            "output": tensor_ref(output.index),
            "scratch": scratch,
        },
        summary=(
            f"{op} {shape_text(source.shape)} -> {shape_text(output.shape)}, "
            f"filter {filter_h}x{filter_w}, stride {values['stride_h']}x{values['stride_w']}"
        ),
        scratch=scratch,
        check_template="aot_avgpool_check" if scratch else "",
    )


def emit_average(node: Node, graph: Graph, dsp: bool) -> NodeCode:
    return _emit(node, graph, dsp, average=True)


def emit_max(node: Node, graph: Graph, dsp: bool) -> NodeCode:
    return _emit(node, graph, dsp, average=False)
