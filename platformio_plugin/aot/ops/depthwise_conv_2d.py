"""DEPTHWISE_CONV_2D, int8, per-channel: ``arm_depthwise_conv_wrapper_s8`` with the
parameters of TFLM's kernels/cmsis_nn/depthwise_conv.cc (Prepare, PopulateDwConvParams)."""

from __future__ import annotations

from ..graph import Graph, Node
from .common import (
    NodeCode,
    Unsupported,
    activation_input,
    constant_input,
    optional_bias,
    require_int8,
    row_geometry,
    shape_text,
)
from .conv_2d import per_channel_requantization, spatial


def scratch_bytes(values: dict[str, int], batches: int, in_c: int, out_c: int,
                  filter_h: int, filter_w: int, dsp: bool) -> int:  # fmt: skip
    """``arm_depthwise_conv_wrapper_s8_get_buffer_size`` without MVE."""
    if in_c != out_c or batches != 1 or values["dilation_w"] != 1 or values["dilation_h"] != 1:
        return 0
    if filter_w == 3 and filter_h == 3 and values["pad_h"] <= 1 and values["pad_w"] <= 1:
        return 0
    return in_c * filter_w * filter_h * 2 if dsp else 0


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:
    source = activation_input(graph, node)
    weights = constant_input(graph, node, 1, "filter")
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    if weights.dtype != "int8" or len(weights.shape) != 4 or len(source.shape) != 4:
        raise Unsupported("only int8 4-D filters and inputs are generated")
    _, filter_h, filter_w, out_c = weights.shape
    batches, in_h, in_w, in_c = source.shape
    _, out_h, out_w, _ = output.shape
    if weights.quantized_dimension != 3 and len(weights.scale) > 1:
        raise Unsupported("filter quantized along another dimension than 3")
    bias = optional_bias(graph, node, 2, out_c)
    values = spatial(node, (in_h, in_w), (filter_h, filter_w), (out_h, out_w))
    common, constants = per_channel_requantization(node, source, weights, bias, output, out_c)
    scratch = scratch_bytes(values, batches, in_c, out_c, filter_h, filter_w, dsp)
    return NodeCode(
        template="aot_depthwise_conv_2d",
        reference="aot_ref_depthwise_conv_2d",
        values={
            **values,
            **common,
            "ch_mult": node.option("depth_multiplier"),
            "batches": batches,
            "in_h": in_h,
            "in_w": in_w,
            "in_c": in_c,
            "filter_n": weights.shape[0],
            "filter_h": filter_h,
            "filter_w": filter_w,
            "out_h": out_h,
            "out_w": out_w,
            "out_c": out_c,
            "scratch": scratch,
        },
        summary=(
            f"DEPTHWISE_CONV_2D {shape_text(source.shape)} * {shape_text(weights.shape)} -> "
            f"{shape_text(output.shape)}, stride {values['stride_h']}x{values['stride_w']}, "
            f"pad {values['pad_h']}x{values['pad_w']}"
        ),
        constants=constants,
        scratch=scratch,
        rows=row_geometry(source, output, values, filter_h),
        check_template="aot_depthwise_conv_2d_check" if scratch else "",
    )
