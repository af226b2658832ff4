"""PAD and PADV2, int8, up to 4-D: ``arm_pad_s8`` as TFLM's kernels/cmsis_nn/pad.cc calls it
(PadEvalInt8), with the checks of kernels/pad_common.cc (PadPrepare). The pad value is the
output zero point (PAD) or PADV2's constant int8 value, taken as it is."""

from __future__ import annotations

from ..graph import Graph, Node
from .common import (
    NodeCode,
    Unsupported,
    activation_input,
    constant_input,
    int8_values,
    int32_values,
    require_int8,
    shape_text,
    tensor_ref,
)

DIMS = 4  # cmsis_nn_dims: n, h, w, c


def _padded(values: list[int], fill: int) -> list[int]:
    """The last ``len(values)`` of four dimensions, the first ones ``fill`` (as pad.cc's
    ``rank >= k ? ... : fill``)."""
    return [fill] * (DIMS - len(values)) + values


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    paddings = constant_input(graph, node, 1, "paddings tensor")
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    rank = len(source.shape)
    if not 1 <= rank <= DIMS or len(output.shape) != rank:
        raise Unsupported(f"a {rank}-D input, only 1-D to 4-D are generated")
    if paddings.dtype != "int32" or paddings.elements != 2 * rank:
        raise Unsupported(f"paddings are {paddings.dtype} with {paddings.elements} values")
    pairs = int32_values(paddings)
    before, after = list(pairs[0::2]), list(pairs[1::2])
    if min(pairs) < 0:
        raise Unsupported(f"negative paddings {list(pairs)}")
    for axis in range(rank):
        if source.shape[axis] + before[axis] + after[axis] != output.shape[axis]:
            raise Unsupported(f"output dimension {axis} is not the padded input's")
    if len(node.inputs) > 2 and node.inputs[2] >= 0:  # PADV2
        constant = constant_input(graph, node, 2, "constant value")
        if constant.dtype != "int8" or constant.elements != 1:
            raise Unsupported(f"a constant value of {constant.dtype} x {constant.elements}")
        if constant.zero_point != output.zero_point or constant.scale != output.scale:
            raise Unsupported("the constant value is quantized unlike the output")
        pad_value = int8_values(constant)[0]
    else:
        pad_value = output.zero_point[0]
    return NodeCode(
        template="aot_pad",
        reference="aot_ref_pad",
        values={
            "input": tensor_ref(source.index),
            "output": tensor_ref(output.index),
            "pad_value": pad_value,
            "input_dims": ", ".join(str(d) for d in _padded(list(source.shape), 1)),
            "pre_pad": ", ".join(str(p) for p in _padded(before, 0)),
            "post_pad": ", ".join(str(p) for p in _padded(after, 0)),
        },
        summary=(
            f"{node.op} {shape_text(source.shape)} -> {shape_text(output.shape)}, "
            f"paddings {[[b, a] for b, a in zip(before, after)]}, value {pad_value}"
        ),
    )
