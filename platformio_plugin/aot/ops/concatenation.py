"""CONCATENATION, int8: TFLM's reference Concatenation (kernels/internal/reference/
concatenation.h) as a plain loop of memcpy, with the checks of kernels/concatenation.cc
(ConcatenationPrepare): no fused activation, every input quantized as the output. For each
of the ``outer`` blocks before the axis, each input's block in turn."""

from __future__ import annotations

from ..graph import Graph, Node
from .common import NodeCode, Unsupported, activation_input, require_int8, shape_text, tensor_ref

MAX_INPUTS = 10  # kMaxInputNum of concatenation.cc


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    output = graph.tensor(node.outputs[0])
    if not 1 <= len(node.inputs) <= MAX_INPUTS:
        raise Unsupported(f"{len(node.inputs)} inputs")
    sources = [activation_input(graph, node, i) for i in range(len(node.inputs))]
    require_int8(graph, node, (*(s.index for s in sources), output.index))
    if node.option("activation") != 0:
        raise Unsupported("a fused activation (TFLM refuses it)")
    rank = len(output.shape)
    axis = node.option("axis")
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise Unsupported(f"axis {node.option('axis')} of a {rank}-D output")
    for source in sources:
        if source.scale != output.scale or source.zero_point != output.zero_point:
            raise Unsupported(f"tensor {source.index} is quantized unlike the output")
        if len(source.shape) != rank or any(
            source.shape[d] != output.shape[d] for d in range(rank) if d != axis
        ):
            raise Unsupported(f"tensor {source.index} {shape_text(source.shape)} does not fit")
    if sum(s.shape[axis] for s in sources) != output.shape[axis]:
        raise Unsupported("the inputs do not add up to the output along the axis")
    outer = 1
    for d in output.shape[:axis]:
        outer *= d
    inner = 1
    for d in output.shape[axis + 1 :]:
        inner *= d
    return NodeCode(
        template="aot_concatenation",
        values={
            "count": len(sources),
            "inputs": ", ".join(tensor_ref(s.index) for s in sources),
            "sizes": ", ".join(str(s.shape[axis] * inner) for s in sources),
            "outer": outer,
            "output": tensor_ref(output.index),
        },
        summary=(
            f"CONCATENATION {' + '.join(shape_text(s.shape) for s in sources)} -> "
            f"{shape_text(output.shape)}, axis {axis}"
        ),
    )
