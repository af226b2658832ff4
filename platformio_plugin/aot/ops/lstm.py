"""UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations with an int16 cell state:
``arm_lstm_unidirectional_s8`` with the parameters of TFLM's kernels/cmsis_nn/
unidirectional_sequence_lstm.cc (Prepare, CMSIS_NN_PortOpData) and lstm_eval_common.cc
(PrepareGateParametersInteger, CreateLstmCellStateInfo).

TFLM computes each gate's effective biases (the kernel sums ``arm_vector_sum_s8`` makes at
Prepare) into the arena; here they are integers computed at build time, const in flash. Like
TFLM's CMSIS-NN kernel the generated code passes no hidden state, so every invocation starts
from zero state (the cell state lives in a scratch buffer).
"""

from __future__ import annotations

import math

from .. import quant
from ..graph import Graph, Node, Tensor
from .common import (
    Constant,
    NodeCode,
    Unsupported,
    activation_input,
    constant_input,
    int8_values,
    int32_values,
    prefix,
    shape_text,
    tensor_ref,
)

# TFLite's input order (lstm_shared.h): weights 1-8, biases 12-15, states 18 and 19
GATES = ("forget", "input", "cell", "output")  # cmsis_nn_lstm_params order
INPUT_WEIGHTS = {"input": 1, "forget": 2, "cell": 3, "output": 4}
RECURRENT_WEIGHTS = {"input": 5, "forget": 6, "cell": 7, "output": 8}
BIASES = {"input": 12, "forget": 13, "cell": 14, "output": 15}
UNSUPPORTED_INPUTS = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection",
                      17: "projection", 20: "layer norm", 21: "layer norm", 22: "layer norm",
                      23: "layer norm"}  # fmt: skip
HIDDEN_STATE = 18
CELL_STATE = 19
GATE_INPUT_SCALE = 2.0**-12  # nonlinear_input_scale: Q3.12
GATE_OUTPUT_SCALE = 2.0**-15  # nonlinear_output_scale: Q0.15
ACT_TANH = 4  # schema ActivationFunctionType.TANH: the cell gate's nonlinearity


def _weights(graph: Graph, node: Node, position: int, rows: int, cols: int) -> Tensor:
    weights = constant_input(graph, node, position, f"weights input {position}")
    if weights.dtype != "int8" or weights.shape != (rows, cols):
        raise Unsupported(f"input {position} is {weights.dtype} {shape_text(weights.shape)}")
    if len(weights.scale) != 1:
        raise Unsupported(f"input {position} is quantized per channel")
    return weights


def row_sums(weights: Tensor, lhs_offset: int, bias: tuple[int, ...] | None) -> tuple[int, ...]:
    """``arm_vector_sum_s8`` (rhs_offset 0): per row, the bias (or 0) plus ``lhs_offset`` times
    the row's sum of weights, as int32."""
    rows, cols = weights.shape
    values = int8_values(weights)
    sums = []
    for row in range(rows):
        total = sum(values[row * cols : (row + 1) * cols]) * lhs_offset
        sums.append((bias[row] if bias is not None else 0) + total)
    for value in sums:
        if not -(1 << 31) <= value < (1 << 31):
            raise Unsupported("an effective bias overflows int32")
    return tuple(sums)


def inter_gate_multiplier(scale1: float, scale2: float, output_scale: float) -> tuple[int, int]:
    """``CreateInterGateMulParams``: ``QuantizeMultiplier(double(s1) * double(s2) /
    double(out))``."""
    return quant.quantize_multiplier((scale1 * scale2) / output_scale)


def cell_scale_power(cell_scale: float) -> int:
    """``CheckedLog2`` of the cell state's scale; TFLM's int16 cell needs a power of two."""
    log2 = math.log(cell_scale) / math.log(2.0)
    rounded = round(log2)
    if abs(log2 - rounded) >= 1e-3:
        raise Unsupported(f"the cell state's scale {cell_scale!r} is not a power of two")
    return int(rounded)


def quantized_cell_clip(cell_clip: float, cell_scale: float) -> int:
    """``CreateLstmCellStateInfo``: the clip in cell units, clamped to int16, truncated."""
    return int(min(max(cell_clip / cell_scale, -32768.0), 32767.0))


def emit(node: Node, graph: Graph, dsp: bool) -> NodeCode:  # noqa: ARG001 (same on every core)
    source = activation_input(graph, node)
    output = graph.tensor(node.outputs[0])
    for position, what in UNSUPPORTED_INPUTS.items():
        if len(node.inputs) > position and node.inputs[position] >= 0:
            raise Unsupported(f"a {what} input (TFLM's LSTM kernels have none)")
    if len(node.inputs) <= CELL_STATE:
        raise Unsupported("no state inputs")
    hidden = graph.tensor(node.inputs[HIDDEN_STATE])
    cell = graph.tensor(node.inputs[CELL_STATE])
    if source.dtype != "int8" or output.dtype != "int8" or hidden.dtype != "int8":
        raise Unsupported("only int8 input, output and hidden state are generated")
    if cell.dtype != "int16":
        raise Unsupported(f"a {cell.dtype} cell state (the int8 kernel keeps it int16)")
    if len(source.shape) != 3:
        raise Unsupported(f"a {shape_text(source.shape)} input (TFLM wants 3-D)")
    time_major = node.option("time_major")
    batch, steps = (source.shape[1], source.shape[0]) if time_major else source.shape[:2]
    input_size = source.shape[2]
    hidden_size = hidden.shape[-1]
    if output.shape != (*source.shape[:2], hidden_size):
        raise Unsupported(f"output {shape_text(output.shape)} does not fit")

    name = prefix(node)
    input_offset = -source.zero_point[0]
    hidden_offset = hidden.zero_point[0]
    constants: list[Constant] = []
    gates: dict[str, str] = {}
    for gate in GATES:
        w_in = _weights(graph, node, INPUT_WEIGHTS[gate], hidden_size, input_size)
        w_rec = _weights(graph, node, RECURRENT_WEIGHTS[gate], hidden_size, hidden_size)
        bias_tensor = constant_input(graph, node, BIASES[gate], f"{gate} gate bias")
        if bias_tensor.dtype != "int32" or bias_tensor.elements != hidden_size:
            raise Unsupported(f"the {gate} gate bias is {bias_tensor.dtype}")
        bias = int32_values(bias_tensor)
        in_mult, in_shift = quant.per_tensor_multiplier(
            source.scale[0], w_in.scale[0], GATE_INPUT_SCALE
        )
        rec_mult, rec_shift = quant.per_tensor_multiplier(
            hidden.scale[0], w_rec.scale[0], GATE_INPUT_SCALE
        )
        g = f"{name}_{gate}"
        constants += [
            Constant(f"{g}_input_weights", "int8_t", int8_values(w_in)),
            Constant(f"{g}_input_sums", "int32_t", row_sums(w_in, input_offset, bias)),
            Constant(f"{g}_hidden_weights", "int8_t", int8_values(w_rec)),
            Constant(f"{g}_hidden_sums", "int32_t", row_sums(w_rec, -hidden_offset, None)),
            Constant(f"{g}_bias", "int32_t", bias),
        ]
        tanh = gate == "cell" and node.option("activation") == ACT_TANH
        gates[gate] = (
            f"{in_mult}, {in_shift}, {g}_input_weights, {g}_input_sums,\n"
            f"         {rec_mult}, {rec_shift}, {g}_hidden_weights, {g}_hidden_sums,\n"
            f"         {g}_bias, {'ARM_TANH' if tanh else 'ARM_SIGMOID'}"
        )
    cell_scale = cell.scale[0]
    forget_mult, forget_shift = inter_gate_multiplier(GATE_OUTPUT_SCALE, cell_scale, cell_scale)
    input_mult, input_shift = inter_gate_multiplier(
        GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, cell_scale
    )
    out_mult, out_shift = inter_gate_multiplier(
        GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, hidden.scale[0]
    )
    state_elements = batch * hidden_size
    return NodeCode(
        template="aot_lstm",
        reference=None,  # TFLM's reference LSTM is not generated
        values={
            "time_major": int(bool(time_major)),
            "batch": batch,
            "time_steps": steps,
            "input_size": input_size,
            "hidden_size": hidden_size,
            "input_offset": input_offset,
            "forget_to_cell": f"{forget_mult}, {forget_shift}",
            "input_to_cell": f"{input_mult}, {input_shift}",
            "cell_clip": quantized_cell_clip(float(node.options["cell_clip"]), cell_scale),
            "cell_scale_power": cell_scale_power(cell_scale),
            "output": f"{out_mult}, {out_shift}, {hidden_offset}",
            **{f"{gate}_gate": text for gate, text in gates.items()},
            "state_elements": state_elements,
            "input": tensor_ref(source.index),
            "output_tensor": tensor_ref(output.index),
        },
        summary=(
            f"UNIDIRECTIONAL_SEQUENCE_LSTM {shape_text(source.shape)} -> "
            f"{shape_text(output.shape)}, {hidden_size} units"
        ),
        constants=tuple(constants),
        scratch=3 * state_elements * 2,  # temp1, temp2 and the cell state, int16
        unused=(hidden.index, cell.index),
    )
