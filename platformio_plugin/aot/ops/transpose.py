"""TRANSPOSE, int8, 4-D: ``arm_transpose_s8`` as TFLM's kernels/cmsis_nn/transpose.cc calls
it (TransposeEvalInt8)."""

from __future__ import annotations

from ..graph import Graph, Node
from .common import (
    Constant,
    NodeCode,
    Unsupported,
    activation_input,
    constant_input,
    int32_values,
    prefix,
    require_int8,
    shape_text,
    tensor_ref,
)


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    perm = constant_input(graph, node, 1, "permutation")
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    if len(source.shape) != 4 or len(output.shape) != 4 or perm.elements != 4:
        raise Unsupported("only 4-D transposes are generated")
    name = prefix(node)
    dims = ", ".join(str(d) for d in source.shape)
    return NodeCode(
        template="aot_transpose",
        reference="aot_ref_transpose",
        values={
            "perm": f"{name}_perm",
            "input_dims": dims,
            "output_dims": ", ".join(str(d) for d in output.shape),
            "input": tensor_ref(source.index),
            "output": tensor_ref(output.index),
        },
        summary=(
            f"TRANSPOSE {shape_text(source.shape)} -> {shape_text(output.shape)}, "
            f"perm {list(int32_values(perm))}"
        ),
        constants=(Constant(f"{name}_perm", "uint32_t", int32_values(perm)),),
    )
