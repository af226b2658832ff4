"""CONV_2D, int8, per-channel: ``arm_convolve_wrapper_s8`` with the parameters of TFLM's
kernels/cmsis_nn/conv.cc (Prepare, EvalQuantizedPerChannel) and conv_common.cc."""

from __future__ import annotations

from .. import quant
from ..graph import Graph, Node, Tensor
from .common import (
    Constant,
    NodeCode,
    Unsupported,
    Value,
    activation_input,
    constant_input,
    int8_values,
    int32_values,
    optional_bias,
    prefix,
    require_int8,
    row_geometry,
    shape_text,
    tensor_ref,
)


def spatial(node: Node, in_hw: tuple[int, int], filter_hw: tuple[int, int],
            out_hw: tuple[int, int]) -> dict[str, int]:  # fmt: skip
    """Strides, dilations and padding as ``ComputePaddingHeightWidth``; the model's output
    size must be the one TFLM computes."""
    values: dict[str, int] = {}
    for axis, i in (("h", 0), ("w", 1)):
        stride = node.option(f"stride_{axis}")
        dilation = node.option(f"dilation_{axis}") if f"dilation_{axis}" in node.options else 1
        padding = node.option("padding")
        expected = quant.output_size(padding, in_hw[i], filter_hw[i], stride, dilation)
        if expected != out_hw[i]:
            raise Unsupported(f"output {axis} is {out_hw[i]}, TFLM computes {expected}")
        values[f"stride_{axis}"] = stride
        values[f"dilation_{axis}"] = dilation
        values[f"pad_{axis}"] = quant.padding(stride, dilation, in_hw[i], filter_hw[i], out_hw[i])
    return values


def per_channel_requantization(
    node: Node, source: Tensor, weights: Tensor, bias: Tensor | None, output: Tensor,
    channels: int,
) -> tuple[dict[str, Value], tuple[Constant, ...]]:  # fmt: skip
    """What CONV_2D and DEPTHWISE_CONV_2D share (TFLM's ``CalculateOpDataConv`` and
    ``CalculateOpDataDepthwiseConv``: ``PopulateConvolutionQuantizationParams``): the
    template values of offsets, fused activation range and tensors, and the const filter,
    per-channel multipliers and shifts, and bias."""
    multipliers, shifts = quant.per_channel_multipliers(
        source.scale[0], weights.scale, output.scale[0], channels
    )
    act_min, act_max = quant.activation_range(
        node.option("activation"), output.scale[0], output.zero_point[0]
    )
    name = prefix(node)
    constants = [
        Constant(f"{name}_filter", "int8_t", int8_values(weights)),
        Constant(f"{name}_multiplier", "int32_t", tuple(multipliers)),
        Constant(f"{name}_shift", "int32_t", tuple(shifts)),
    ]
    if bias is not None:
        constants.append(Constant(f"{name}_bias", "int32_t", int32_values(bias)))
    values: dict[str, Value] = {
        "input_offset": -source.zero_point[0],
        "output_offset": output.zero_point[0],
        "act_min": act_min,
        "act_max": act_max,
        "multiplier": f"{name}_multiplier",
        "shift": f"{name}_shift",
        "input": tensor_ref(source.index),
        "filter": f"{name}_filter",
        "bias": f"{name}_bias" if bias is not None else "nullptr",
        "output": tensor_ref(output.index),
    }
    return values, tuple(constants)


def scratch_bytes(values: dict[str, int], in_c: int, filter_h: int, filter_w: int) -> int:
    """``arm_convolve_wrapper_s8_get_buffer_size`` without MVE (the DSP and plain C builds
    agree when compiled with GCC): 0 for a 1x1 convolution, else the im2col buffer of
    ``arm_convolve_s8_get_buffer_size``."""
    one_by_one = (
        values["pad_h"] == 0 and values["pad_w"] == 0 and filter_h == 1 and filter_w == 1
        and values["dilation_h"] == 1 and values["dilation_w"] == 1
    )  # fmt: skip
    if one_by_one:
        return 0
    rhs_cols = filter_w * filter_h * in_c
    aligned = (rhs_cols + 3) // 4 * 4
    return 2 * aligned * 2


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    weights = constant_input(graph, node, 1, "filter")
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    if weights.dtype != "int8" or len(weights.shape) != 4 or len(source.shape) != 4:
        raise Unsupported("only int8 4-D filters and inputs are generated")
    out_c, filter_h, filter_w, filter_c = weights.shape
    batches, in_h, in_w, in_c = source.shape
    _, out_h, out_w, _ = output.shape
    if in_c != filter_c:
        raise Unsupported("grouped convolution")
    if weights.quantized_dimension != 0 and len(weights.scale) > 1:
        raise Unsupported("filter quantized along another dimension than 0")
    bias = optional_bias(graph, node, 2, out_c)
    values = spatial(node, (in_h, in_w), (filter_h, filter_w), (out_h, out_w))
    common, constants = per_channel_requantization(node, source, weights, bias, output, out_c)
    scratch = scratch_bytes(values, in_c, filter_h, filter_w)
    return NodeCode(
        template="aot_conv_2d",
        reference="aot_ref_conv_2d",
        values={
            **values,
            **common,
            "batches": batches,
            "in_h": in_h,
            "in_w": in_w,
            "in_c": in_c,
            "filter_h": filter_h,
            "filter_w": filter_w,
            "out_h": out_h,
            "out_w": out_w,
            "out_c": out_c,
            "scratch": scratch,
            "node": node.index,
        },
        summary=(
            f"CONV_2D {shape_text(source.shape)} * {shape_text(weights.shape)} -> "
            f"{shape_text(output.shape)}, stride {values['stride_h']}x{values['stride_w']}, "
            f"pad {values['pad_h']}x{values['pad_w']}"
        ),
        constants=constants,
        scratch=scratch,
        rows=row_geometry(source, output, values, filter_h),
        check_template="aot_conv_2d_check" if scratch else "",
    )
