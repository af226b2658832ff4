"""SOFTMAX, int8 in and out: ``arm_softmax_s8`` with the parameters of TFLM's
kernels/cmsis_nn/softmax.cc and softmax_common.cc (CalculateSoftmaxParams)."""

from __future__ import annotations

from .. import quant
from ..graph import Graph, Node
from .common import NodeCode, Unsupported, activation_input, require_int8, shape_text, tensor_ref


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    if output.zero_point[0] != -128 or output.scale[0] != 1.0 / 256:
        raise Unsupported("an int8 softmax output must have scale 1/256 and zero point -128")
    multiplier, left_shift, diff_min = quant.softmax_params(
        float(node.options["beta"]), source.scale[0]
    )
    depth = source.shape[-1]
    return NodeCode(
        template="aot_softmax",
        reference="aot_ref_softmax",
        values={
            "rows": source.elements // depth,
            "row_size": depth,
            "multiplier": multiplier,
            "left_shift": left_shift,
            "diff_min": diff_min,
            "input": tensor_ref(source.index),
            "output": tensor_ref(output.index),
        },
        summary=f"SOFTMAX {shape_text(source.shape)} -> {shape_text(output.shape)}",
    )
