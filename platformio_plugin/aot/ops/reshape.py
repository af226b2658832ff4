"""RESHAPE: the bytes stay as they are; copied from the input's place in the arena to the
output's (TFLM's reshape.cc copies too when the two differ)."""

from __future__ import annotations

from ..graph import Graph, Node
from .common import NodeCode, Unsupported, activation_input, shape_text, tensor_ref


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    output = graph.tensor(node.outputs[0])
    if source.dtype != output.dtype or source.elements != output.elements:
        raise Unsupported("input and output differ in type or size")
    if source.dtype != "int8":
        raise Unsupported(f"a {source.dtype} tensor")
    return NodeCode(
        template="aot_copy",
        values={
            "input": tensor_ref(source.index),
            "output": tensor_ref(output.index),
            "bytes": output.elements,
        },
        summary=f"RESHAPE {shape_text(source.shape)} -> {shape_text(output.shape)}",
    )
