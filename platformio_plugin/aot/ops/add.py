"""ADD, int8, same shapes: ``arm_elementwise_add_s8`` with the parameters of TFLM's
kernels/add_common.cc (CalculateOpDataAdd) as kernels/cmsis_nn/add.cc passes them
(EvalAddQuantizedInt8 without broadcast)."""

from __future__ import annotations

from .. import quant
from ..graph import Graph, Node
from .common import NodeCode, Unsupported, activation_input, require_int8, shape_text, tensor_ref

LEFT_SHIFT = 20  # int8 output


def _smaller_than_one(real: float) -> tuple[int, int]:
    """``QuantizeMultiplierSmallerThanOneExp``."""
    if not 0.0 < real < 1.0:
        raise Unsupported(f"a rescale factor of {real!r}, outside (0, 1)")
    return quant.quantize_multiplier(real)


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    first = activation_input(graph, node, 0)
    second = activation_input(graph, node, 1)
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (first.index, second.index, output.index))
    if first.shape != second.shape or first.elements != output.elements:
        raise Unsupported("inputs of different shapes (broadcast)")
    twice_max = 2 * max(first.scale[0], second.scale[0])
    in1_multiplier, in1_shift = _smaller_than_one(first.scale[0] / twice_max)
    in2_multiplier, in2_shift = _smaller_than_one(second.scale[0] / twice_max)
    out_multiplier, out_shift = _smaller_than_one(twice_max / ((1 << LEFT_SHIFT) * output.scale[0]))
    act_min, act_max = quant.activation_range(
        node.option("activation"), output.scale[0], output.zero_point[0]
    )
    return NodeCode(
        template="aot_add",
        reference="aot_ref_add",
        values={
            "input1": tensor_ref(first.index),
            "input2": tensor_ref(second.index),
            "input1_offset": -first.zero_point[0],
            "input1_multiplier": in1_multiplier,
            "input1_shift": in1_shift,
            "input2_offset": -second.zero_point[0],
            "input2_multiplier": in2_multiplier,
            "input2_shift": in2_shift,
            "left_shift": LEFT_SHIFT,
            "output": tensor_ref(output.index),
            "output_offset": output.zero_point[0],
            "output_multiplier": out_multiplier,
            "output_shift": out_shift,
            "act_min": act_min,
            "act_max": act_max,
            "size": output.elements,
        },
        summary=f"ADD {shape_text(first.shape)} + {shape_text(second.shape)}",
    )
