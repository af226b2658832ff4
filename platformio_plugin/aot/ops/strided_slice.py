"""STRIDED_SLICE, int8, up to 4-D: TFLM's reference StridedSlice (kernels/internal/reference/
strided_slice.h, the StridedSliceParams overload) as five plain loops with the starts, stops
and strides its Prepare and Eval compute (kernels/strided_slice_common.cc:
BuildStridedSliceParams, which sets the ellipsis and new-axis masks and ``offset`` to zero;
kernels/internal/strided_slice_logic.h: StridedSlicePadIndices, StridedSliceStartForAxis,
StridedSliceEndForAxis). Computed here once; the loops copy what TFLM's would."""

from __future__ import annotations

import math

from ..graph import Graph, Node
from .common import (
    NodeCode,
    Unsupported,
    activation_input,
    constant_input,
    int32_values,
    require_int8,
    shape_text,
    tensor_ref,
)

DIMS = 5  # the reference kernel's extended shape
MAX_INPUT_DIMS = 4  # kMaxDim of strided_slice_common.cc


def _clamp(value: int, low: int, high: int) -> int:
    return high if high < value else low if value < low else value


def slice_bounds(
    shape: tuple[int, ...],
    begin: tuple[int, ...],
    end: tuple[int, ...],
    strides: tuple[int, ...],
    begin_mask: int,
    end_mask: int,
    shrink_axis_mask: int,
) -> list[tuple[int, int, int]]:
    """(start, stop, stride) of the five loops: the indices padded to five dimensions in
    front (start 0, stop 1, stride 1, both masks set), then each axis as
    StridedSliceStartForAxis / StridedSliceEndForAxis (``offset`` false)."""
    pad = DIMS - len(shape)
    dims = [1] * pad + list(shape)
    starts = [0] * pad + list(begin)
    stops = [1] * pad + list(end)
    steps = [1] * pad + list(strides)
    begin_mask = (begin_mask << pad) | ((1 << pad) - 1)
    end_mask = (end_mask << pad) | ((1 << pad) - 1)
    shrink_axis_mask <<= pad
    bounds = []
    for axis in range(DIMS):
        size, stride = dims[axis], steps[axis]
        start = starts[axis]
        if start < 0:
            start += size
        start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
        if begin_mask & (1 << axis):
            start = 0 if stride > 0 else size - 1
        if shrink_axis_mask & (1 << axis):
            stop = start if start >= size else start + 1
        else:
            stop = stops[axis]
            if stop < 0:
                stop += size
            stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
            if end_mask & (1 << axis):
                stop = size if stride > 0 else -1
        bounds.append((start, stop, stride))
    return bounds


def _count(start: int, stop: int, stride: int) -> int:
    return max(0, math.ceil((stop - start) / stride))


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    rank = len(source.shape)
    if not 1 <= rank <= MAX_INPUT_DIMS:
        raise Unsupported(f"a {rank}-D input, TFLM takes 1-D to 4-D")
    vectors = []
    for position, what in ((1, "begin"), (2, "end"), (3, "strides")):
        tensor = constant_input(graph, node, position, what)
        if tensor.dtype != "int32" or tensor.elements < rank:
            raise Unsupported(f"{what} is {tensor.dtype} with {tensor.elements} values")
        vectors.append(int32_values(tensor)[:rank])
    begin, end, strides = vectors
    if 0 in strides:
        raise Unsupported("a stride of zero")
    for mask in ("ellipsis_mask", "new_axis_mask", "offset"):
        if node.option(mask):
            raise Unsupported(f"{mask} set (TFLM's Prepare leaves it out)")
    bounds = slice_bounds(
        source.shape,
        begin,
        end,
        strides,
        node.option("begin_mask"),
        node.option("end_mask"),
        node.option("shrink_axis_mask"),
    )
    copied = 1
    for start, stop, stride in bounds:
        copied *= _count(start, stop, stride)
    if copied != output.elements:
        raise Unsupported(f"{copied} elements sliced for an output of {output.elements}")
    dims = [1] * (DIMS - rank) + list(source.shape)
    values: dict[str, int | str] = {
        "input": tensor_ref(source.index),
        "output": tensor_ref(output.index),
    }
    for axis, (start, stop, stride) in enumerate(bounds):
        values[f"start{axis}"] = start
        values[f"stop{axis}"] = stop
        values[f"stride{axis}"] = stride
        values[f"cmp{axis}"] = "<" if stride > 0 else ">"
        values[f"d{axis}"] = dims[axis]
    return NodeCode(
        template="aot_strided_slice",
        values=values,
        summary=(
            f"STRIDED_SLICE {shape_text(source.shape)} -> {shape_text(output.shape)}, "
            f"begin {list(begin)}, end {list(end)}, strides {list(strides)}"
        ),
    )
