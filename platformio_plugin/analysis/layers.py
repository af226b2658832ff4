"""Per-layer view of a parsed model: op names, shapes and multiply-accumulates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..errors import UnsupportedOpsError
from ..tflm import op_table
from .tflite_reader import Operator, TFLiteModel


@dataclass(frozen=True)
class Layer:
    index: int
    op: str  # builtin name ("CONV_2D") or the custom code ("SignalWindow")
    inputs: tuple[tuple[int, ...], ...]  # shapes of non-constant inputs
    output: tuple[int, ...]
    macs: int


def op_name(operator: Operator) -> str:
    if operator.custom_code:
        return operator.custom_code
    return op_table.builtin_name(operator.builtin_code)


def _macs(model: TFLiteModel, operator: Operator, name: str) -> int:
    """MACs of the ops that dominate compute; 0 for data movement and activations."""
    if not operator.outputs or operator.outputs[0] < 0:
        return 0
    out = model.tensor(operator.outputs[0])
    weights = (
        model.tensor(operator.inputs[1])
        if len(operator.inputs) > 1 and operator.inputs[1] >= 0
        else None
    )
    if weights is None or len(weights.shape) < 2:
        return 0
    if name == "CONV_2D" and len(weights.shape) == 4:
        _, kh, kw, cin = weights.shape
        return out.elements * kh * kw * cin
    if name == "DEPTHWISE_CONV_2D" and len(weights.shape) == 4:
        return out.elements * weights.shape[1] * weights.shape[2]
    if name == "FULLY_CONNECTED":
        return out.elements * weights.shape[-1]
    if name == "TRANSPOSE_CONV" and len(operator.inputs) > 2:
        filt = model.tensor(operator.inputs[1]).shape  # [O, kh, kw, I]
        src = model.tensor(operator.inputs[2])
        return src.elements * filt[0] * filt[1] * filt[2] if len(filt) == 4 else 0
    if name == "UNIDIRECTIONAL_SEQUENCE_LSTM" and len(operator.inputs) > 5:
        hidden, features = model.tensor(operator.inputs[5]).shape[-2:]  # input_to_forget
        steps = out.elements // max(hidden, 1)
        return steps * 4 * hidden * (features + hidden)
    if name == "BATCH_MATMUL":
        return out.elements * model.tensor(operator.inputs[0]).shape[-1]
    return 0


def layers(model: TFLiteModel) -> list[Layer]:
    rows = []
    for operator in model.operators:
        name = op_name(operator)
        shapes = tuple(
            model.tensor(i).shape
            for i in operator.inputs
            if i >= 0 and not model.tensor(i).has_data
        )
        output = model.tensor(operator.outputs[0]).shape if operator.outputs else ()
        rows.append(Layer(operator.index, name, shapes, output, _macs(model, operator, name)))
    return rows


def op_counts(model: TFLiteModel) -> Counter[str]:
    return Counter(op_name(o) for o in model.operators)


def check_supported(model: TFLiteModel, model_name: str) -> None:
    """Every op must have a TFLM kernel; report all offenders at once."""
    offenders = [
        (str(o.index), op_name(o)) for o in model.operators if op_table.lookup(op_name(o)) is None
    ]
    if offenders:
        raise UnsupportedOpsError(
            model_name,
            offenders,
            'Replace these layers with supported ones (see "Supported ops" in the README) '
            "before exporting, or fuse them away in the model.",
        )
