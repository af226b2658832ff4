"""What every op emitter returns, and the checks they share.

An emitter is ``emit(node, graph, dsp) -> NodeCode``: the values of its C++ template (the
template holds the text, the emitter only numbers; a CMSIS-NN call's template has a twin
calling TFLM's reference kernel with the same values), the constant arrays it needs, the bytes
of scratch buffer the CMSIS-NN function asks for on this core (``dsp``: the core has the DSP
extension, as ``ARM_MATH_DSP`` in CMSIS-NN) and, when that is not zero, a check the generated
code runs in ``begin()`` against CMSIS-NN's own ``arm_*_get_buffer_size``. It raises
`Unsupported` with the reason when it has no code for the node.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Union

from ..graph import Graph, Node, Tensor
from ..tiling import Rows

Value = Union[str, int]


class Unsupported(Exception):
    """The emitter has no code for this node; the message says why."""


@dataclass(frozen=True)
class Constant:
    """A const array in flash: ``name`` is unique in the model's source."""

    name: str
    ctype: str  # "int8_t", "int32_t" or "uint32_t"
    values: tuple[int, ...]


@dataclass(frozen=True)
class NodeCode:
    template: str  # codegen/templates/<template>.tmpl, rendered with `values`
    values: dict[str, Value]
    summary: str  # "CONV_2D 1x49x10x1 -> 1x25x5x64": the node's comment
    constants: tuple[Constant, ...] = ()
    scratch: int = 0
    check_template: str = ""  # rendered with `values` in begin() when scratch > 0
    unused: tuple[int, ...] = ()  # activation inputs the code never reads: not planned
    # With TFLM's reference kernels (custom_tinyml_kernels = reference): "" when the template
    # is plain C (the same code for both), else the template calling the reference kernel with
    # the same values; None when there is none (a CMSIS-NN-only op).
    reference: str | None = ""
    # A layer whose output rows each read a band of input rows: it may run in place, in row
    # tiles (its template's in_h, out_h, pad_h, input and output then change per tile).
    rows: Rows | None = None


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape) or "scalar"


def int8_values(tensor: Tensor) -> tuple[int, ...]:
    return tuple(struct.unpack(f"<{len(tensor.data)}b", tensor.data))


def int32_values(tensor: Tensor) -> tuple[int, ...]:
    count = len(tensor.data) // 4
    return tuple(struct.unpack(f"<{count}i", tensor.data[: 4 * count]))


def tensor_ref(index: int) -> str:
    """The C++ name of an activation tensor's arena offset (defined from the plan)."""
    return f"kTensor{index}"


def require_int8(graph: Graph, node: Node, indices: tuple[int, ...]) -> None:
    for i in indices:
        tensor = graph.tensor(i)
        if tensor.dtype != "int8":
            raise Unsupported(f"tensor {i} is {tensor.dtype}, only int8 is generated")
        if len(tensor.scale) != 1 or len(tensor.zero_point) != 1:
            raise Unsupported(f"tensor {i} is not quantized per tensor")


def constant_input(graph: Graph, node: Node, position: int, what: str) -> Tensor:
    if len(node.inputs) <= position or node.inputs[position] < 0:
        raise Unsupported(f"no {what}")
    tensor = graph.tensor(node.inputs[position])
    if not tensor.is_constant:
        raise Unsupported(f"the {what} is not a constant")
    return tensor


def optional_bias(graph: Graph, node: Node, position: int, channels: int) -> Tensor | None:
    if len(node.inputs) <= position or node.inputs[position] < 0:
        return None
    bias = constant_input(graph, node, position, "bias")
    if bias.dtype != "int32" or bias.elements != channels:
        raise Unsupported(f"bias is {bias.dtype} with {bias.elements} values")
    return bias


def activation_input(graph: Graph, node: Node, position: int = 0) -> Tensor:
    tensor = graph.tensor(node.inputs[position])
    if tensor.is_constant:
        raise Unsupported("a constant activation input")
    return tensor


def row_geometry(source: Tensor, output: Tensor, values: dict[str, int], filter_h: int
                 ) -> Rows | None:  # fmt: skip
    """The rows of a batch-1 NHWC convolution, for running it in place."""
    batches, in_h, in_w, in_c = source.shape
    _, out_h, out_w, out_c = output.shape
    if batches != 1:
        return None
    return Rows(
        in_h=in_h,
        out_h=out_h,
        stride=values["stride_h"],
        pad=values["pad_h"],
        filter_h=filter_h,
        dilation=values["dilation_h"],
        in_row_bytes=in_w * in_c,
        out_row_bytes=out_w * out_c,
        out_w=out_w,
    )


def prefix(node: Node) -> str:
    return f"node{node.index}"
