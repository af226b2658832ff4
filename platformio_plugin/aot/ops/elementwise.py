"""LOGISTIC, TANH, QUANTIZE and DEQUANTIZE: ops whose output element depends on one input
element only.

With an int8 input there are 256 possible inputs, so the build runs TFLM's reference kernel
arithmetic (logistic.h, tanh.h, requantize.h, dequantize.h with the Prepare of
logistic_common.cc, tanh.cc, quantize_common.cc, dequantize_common.cc) on each of them and the
generated code looks the result up in a const table: the interpreter's exact bytes, in fewer
instructions than the fixed-point kernel. (A float32 QUANTIZE is a model input's, and the
plugin takes int8 inputs only.)
"""

from __future__ import annotations

import math
import struct
from typing import Callable

from .. import fixedpoint, quant
from ..graph import Graph, Node, Tensor
from .common import (
    Constant,
    NodeCode,
    Unsupported,
    activation_input,
    prefix,
    require_int8,
    shape_text,
    tensor_ref,
)

INT8_INPUTS = range(quant.INT8_MIN, quant.INT8_MAX + 1)
INPUT_INTEGER_BITS = 4  # logistic_common.cc and tanh.cc: kInputIntegerBits for int8


def _clamp_int8(value: int) -> int:
    return min(max(value, quant.INT8_MIN), quant.INT8_MAX)


def input_rescaling(input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, input_range_radius) as the int8 Prepare of LOGISTIC
    and TANH computes them: ``frexp`` of ``scale * 2**27`` rounded to Q31, and
    ``CalculateInputRadius(4, left_shift, 31)``."""
    real = input_scale * float(1 << (31 - INPUT_INTEGER_BITS))
    q, left_shift = math.frexp(real)
    multiplier = int(quant.tflite_round(q * (1 << 31)))
    if multiplier >= 1 << 31 or left_shift < 0:
        raise Unsupported(f"input scale {input_scale!r} is outside the int8 kernel's range")
    radius = math.floor(
        1.0 * ((1 << INPUT_INTEGER_BITS) - 1) * (1 << (31 - INPUT_INTEGER_BITS)) / (1 << left_shift)
    )
    return multiplier, left_shift, radius


def _fixed_point_table(
    input_scale: float, input_zero_point: int, output: Callable[[int], int]
) -> tuple[int, ...]:
    """The loop the int8 LOGISTIC and TANH kernels share, on every int8 input: inputs beyond
    the radius saturate, the others are rescaled to Q4.27 and ``output`` maps that to int8."""
    multiplier, left_shift, radius = input_rescaling(input_scale)
    table = []
    for value in INT8_INPUTS:
        centred = value - input_zero_point
        if centred <= -radius:
            table.append(quant.INT8_MIN)
        elif centred >= radius:
            table.append(quant.INT8_MAX)
        else:
            in_q4 = fixedpoint.multiply_by_quantized_multiplier(centred, multiplier, left_shift)
            table.append(_clamp_int8(output(in_q4)))
    return tuple(table)


def logistic_table(input_scale: float, input_zero_point: int) -> tuple[int, ...]:
    """``reference_integer_ops::Logistic`` (int8) on every int8 input, in input order: the
    Q0.31 logistic to Q23.8 (``31 - kOutputIntegerBits``), then the output zero point -128."""

    def output(in_q4: int) -> int:
        out_q0 = fixedpoint.logistic(in_q4, INPUT_INTEGER_BITS)
        return fixedpoint.rounding_divide_by_pot(out_q0, 31 - 8) - 128

    return _fixed_point_table(input_scale, input_zero_point, output)


def tanh_table(input_scale: float, input_zero_point: int) -> tuple[int, ...]:
    """``reference_integer_ops::Tanh`` (int8) on every int8 input, in input order: the Q0.31
    tanh to Q24.7 (``31 - kOutputScale``), output zero point 0."""

    def output(in_q4: int) -> int:
        out_q0 = fixedpoint.tanh(in_q4, INPUT_INTEGER_BITS)
        return fixedpoint.rounding_divide_by_pot(out_q0, 31 - 7)

    return _fixed_point_table(input_scale, input_zero_point, output)


def requantize_table(
    input_scale: float, input_zero_point: int, output_scale: float, output_zero_point: int
) -> tuple[int, ...]:
    """``reference_ops::Requantize`` int8 -> int8 with QUANTIZE's Prepare multiplier
    (``QuantizeMultiplier(double(in_scale) / double(out_scale))``)."""
    multiplier, shift = quant.quantize_multiplier(input_scale / output_scale)
    return tuple(
        _clamp_int8(
            fixedpoint.multiply_by_quantized_multiplier(value - input_zero_point, multiplier, shift)
            + output_zero_point
        )
        for value in INT8_INPUTS
    )


def dequantize_table(scale: float, zero_point: int) -> tuple[int, ...]:
    """``reference_ops::Dequantize`` int8 -> float32 (``float(double(scale) * (v - zp))``) on
    every int8 input, as the float32 bit patterns."""
    return tuple(
        struct.unpack("<I", struct.pack("<f", scale * (value - zero_point)))[0]
        for value in INT8_INPUTS
    )


def _table_node(
    node: Node, source: Tensor, output: Tensor, what: str, ctype: str, table: tuple[int, ...]
) -> NodeCode:
    name = f"{prefix(node)}_table"
    return NodeCode(
        template="aot_table_lookup" if ctype == "int8_t" else "aot_table_lookup_float",
        values={
            "table": name,
            "count": source.elements,
            "input": tensor_ref(source.index),
            "output": tensor_ref(output.index),
        },
        summary=f"{what} {shape_text(source.shape)} -> {shape_text(output.shape)}, as a table",
        constants=(Constant(name, ctype, table),),
    )


def _same_size(source: Tensor, output: Tensor) -> None:
    if source.elements != output.elements:
        raise Unsupported("input and output differ in size")


def emit_logistic(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    _same_size(source, output)
    if output.zero_point[0] != quant.INT8_MIN:
        raise Unsupported("an int8 logistic output must have zero point -128 (TFLM refuses it)")
    table = logistic_table(source.scale[0], source.zero_point[0])
    return _table_node(node, source, output, "LOGISTIC", "int8_t", table)


def emit_tanh(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    _same_size(source, output)
    table = tanh_table(source.scale[0], source.zero_point[0])
    return _table_node(node, source, output, "TANH", "int8_t", table)


def emit_dequantize(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    source = activation_input(graph, node)
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index,))
    _same_size(source, output)
    if output.dtype != "float32":
        raise Unsupported(f"a {output.dtype} output, only float32 is generated")
    table = dequantize_table(source.scale[0], source.zero_point[0])
    return _table_node(node, source, output, "DEQUANTIZE", "uint32_t", table)


def emit_quantize(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001
    """QUANTIZE int8 -> int8 (a requantization the converter puts before a node that wants
    one scale on all inputs, such as CONCATENATION)."""
    source = activation_input(graph, node)
    output = graph.tensor(node.outputs[0])
    require_int8(graph, node, (source.index, output.index))
    _same_size(source, output)
    table = requantize_table(
        source.scale[0], source.zero_point[0], output.scale[0], output.zero_point[0]
    )
    return _table_node(node, source, output, "QUANTIZE", "int8_t", table)
