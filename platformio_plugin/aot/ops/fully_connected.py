"""FULLY_CONNECTED, int8: ``arm_fully_connected_wrapper_s8`` with the parameters of TFLM's
kernels/cmsis_nn/fully_connected.cc (Prepare, EvalQuantizedInt8)."""

from __future__ import annotations

from .. import quant
from ..graph import Graph, Node
from .common import (
    Constant,
    NodeCode,
    Unsupported,
    activation_input,
    constant_input,
    int8_values,
    int32_values,
    optional_bias,
    prefix,
    require_int8,
    shape_text,
    tensor_ref,
)


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001 (same on every core)
    source = activation_input(graph, node)
    weights = constant_input(graph, node, 1, "weights tensor")
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    if weights.dtype != "int8" or len(weights.shape) != 2:
        raise Unsupported(f"weights are {weights.dtype} of rank {len(weights.shape)}")
    if node.option("weights_format") != 0:
        raise Unsupported("shuffled weights")
    accum = weights.shape[-1]
    out_depth = output.shape[-1]
    batches = output.elements // out_depth
    if len(output.shape) > 2 and accum % 4 == 0:
        raise Unsupported("an output of rank > 2 (TFLM runs it as a 1x1 convolution)")
    bias = optional_bias(graph, node, 2, out_depth)
    in_scale, out_scale = source.scale[0], output.scale[0]
    per_channel = len(weights.scale) > 1
    if per_channel:
        multipliers, shifts = quant.per_channel_multipliers(
            in_scale, weights.scale, out_scale, len(weights.scale)
        )
    else:
        multiplier, shift = quant.per_tensor_multiplier(in_scale, weights.scale[0], out_scale)
        multipliers, shifts = [multiplier], [shift]
    act_min, act_max = quant.activation_range(
        node.option("activation"), out_scale, output.zero_point[0]
    )
    name = prefix(node)
    constants = [
        Constant(f"{name}_weights", "int8_t", int8_values(weights)),
        Constant(f"{name}_multiplier", "int32_t", tuple(multipliers)),
        Constant(f"{name}_shift", "int32_t", tuple(shifts)),
    ]
    if bias is not None:
        constants.append(Constant(f"{name}_bias", "int32_t", int32_values(bias)))
    return NodeCode(
        template="aot_fully_connected",
        reference="aot_ref_fully_connected",
        values={
            "input_offset": -source.zero_point[0],
            "filter_offset": -(weights.zero_point[0] if weights.zero_point else 0),
            "output_offset": output.zero_point[0],
            "act_min": act_min,
            "act_max": act_max,
            "multiplier": f"{name}_multiplier",
            "shift": f"{name}_shift",
            "per_channel": int(per_channel),
            "batches": batches,
            "accum": accum,
            "out_depth": out_depth,
            "input": tensor_ref(source.index),
            "weights": f"{name}_weights",
            "bias": f"{name}_bias" if bias is not None else "nullptr",
            "output": tensor_ref(output.index),
        },
        summary=(
            f"FULLY_CONNECTED {shape_text(source.shape)} x {shape_text(weights.shape)} -> "
            f"{shape_text(output.shape)}"
        ),
        constants=tuple(constants),
    )
