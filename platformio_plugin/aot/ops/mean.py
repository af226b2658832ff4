"""MEAN, int8: TFLM's reference kernel (kernels/reduce_common.cc: PrepareMeanOrSumHelper,
EvalMeanHelper; kernels/internal/reference/reduce.h: QuantizedMeanOrSum with
``compute_sum = false``) as a plain loop; CMSIS-NN has no function for it and TFLM's
cmsis_nn kernels use the reference one.

TFLM sums the int8 inputs of each output in int32, subtracts ``input_zero_point * count`` and
requantizes with ``MultiplyByQuantizedMultiplier`` (gemmlowp's double rounding) by the
multiplier of ``input_scale / output_scale`` readapted to include ``1 / count``. It does so
for every int8 MEAN: equal input and output quantization take the same path (the multiplier
of 1.0 is then ``2^30, shift 1``). Done here for reduced axes that are one contiguous run once
dimensions of size 1 are left out (MobileNet's axes 1 and 2 of NHWC, keep_dims or not): the
input is then [outer, count, inner] and the output [outer, inner], both in TFLM's order.
"""

from __future__ import annotations

from .. import quant
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

INT32_MAX = (1 << 31) - 1


def resolve_axis(rank: int, axis: tuple[int, ...]) -> list[int]:
    """``ResolveAxis`` of reduce.h: negative axes from the end, duplicates dropped."""
    resolved: list[int] = []
    for value in axis:
        current = value + rank if value < 0 else value
        if not 0 <= current < rank:
            raise Unsupported(f"axis {value} of a {rank}-D input")
        if current not in resolved:
            resolved.append(current)
    return resolved


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """The (multiplier, shift) QuantizedMeanOrSum applies to the zero-point-corrected sums
    of ``count`` inputs: ``QuantizeMultiplier(double(input_scale) / double(output_scale))``
    (PrepareMeanOrSumHelper), then ``shift = 63 - clz(count)`` clamped to 32 and to
    ``31 + output_shift``, ``multiplier = (int64(multiplier) << shift) / count``,
    ``output_shift -= shift``."""
    multiplier, shift = quant.quantize_multiplier(input_scale / output_scale)
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    if extra < 0:
        raise Unsupported(f"an output shift of {shift}")
    reduced = (multiplier << extra) // count  # both >= 0: C++'s truncation is the floor
    if reduced > INT32_MAX:
        raise Unsupported(f"a multiplier of {reduced}, beyond int32")
    return reduced, shift - extra


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    axis_tensor = constant_input(graph, node, 1, "axis tensor")
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    if axis_tensor.dtype != "int32":
        raise Unsupported(f"an {axis_tensor.dtype} axis tensor")
    shape = source.shape
    if not shape:
        raise Unsupported("a scalar input")
    axes = resolve_axis(len(shape), int32_values(axis_tensor))
    count = 1
    for axis in axes:
        count *= shape[axis]
    if count == 0 or output.elements * count != source.elements:
        raise Unsupported("an empty reduction or an output of another size")
    # The reduced axes among those of size > 1 must be one run: [outer, count, inner].
    kept = [i for i, d in enumerate(shape) if d > 1]
    reduced = [i for i in kept if i in axes]
    if reduced:
        run = kept[kept.index(reduced[0]) : kept.index(reduced[-1]) + 1]
        if run != reduced:
            raise Unsupported(f"reduced axes {axes} of {shape_text(shape)} are not one run")
        inner = 1
        for d in shape[reduced[-1] + 1 :]:
            inner *= d
    else:
        inner = output.elements
    outer = output.elements // inner
    if count * 256 > INT32_MAX:
        raise Unsupported(f"{count} inputs per output: the int32 sum could overflow")
    multiplier, shift = mean_multiplier(source.scale[0], output.scale[0], count)
    return NodeCode(
        template="aot_mean",
        values={
            "input": tensor_ref(source.index),
            "output": tensor_ref(output.index),
            "outer": outer,
            "count": count,
            "inner": inner,
            "sum_offset": -source.zero_point[0] * count,
            "multiplier": multiplier,
            "left_shift": max(shift, 0),
            "right_shift": max(-shift, 0),
            "output_offset": output.zero_point[0],
        },
        summary=(
            f"MEAN {shape_text(source.shape)} -> {shape_text(output.shape)}, axes {axes}: "
            f"{count} inputs an output"
        ),
    )
