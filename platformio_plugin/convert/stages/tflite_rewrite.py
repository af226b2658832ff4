"""Rewrites of an int8 .tflite into the form TFLite Micro's kernels run, done on the flatbuffer
after the TFLite converter (which folds any such form back in its own graph passes).

CONCATENATION: TFLM's kernel joins at most 10 inputs (``kMaxInputNum`` in
kernels/concatenation.cc). A wider one becomes a tree of CONCATENATIONs of at most 10 inputs
along the same axis; the intermediate tensors take the output's int8 quantization (the converter
gives a concatenation's inputs and output one scale and zero point), so the result is the same
bytes.

Float constants marked to stay float: LiteRT's converter (LiteRT Torch, ai-edge-torch) writes a
``keep_stablehlo_constant`` metadata entry into the float .tflite; TensorFlow's quantizer then
leaves every weight float, and each CONV_2D, FULLY_CONNECTED, ... runs in float between a
DEQUANTIZE and a QUANTIZE. Dropping the entry before calibration gives the full-int8 model.
"""

from __future__ import annotations

import copy
from typing import Any

MAX_CONCAT_INPUTS = 10  # TFLM's kMaxInputNum
CONCATENATION = 2  # BuiltinOperator


def _concat_code(model: Any) -> int:
    for index, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == CONCATENATION:
            return index
    return -1


def split_wide_concatenations(data: bytes, limit: int = MAX_CONCAT_INPUTS) -> tuple[bytes, int]:
    """The model with every CONCATENATION of more than ``limit`` inputs split into a tree, and
    how many were split (0: the bytes as given)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    model = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    code = _concat_code(model)
    if code < 0:
        return data, 0
    split = 0
    for subgraph in model.subgraphs:
        operators = []
        for op in subgraph.operators:
            inputs = list(op.inputs) if op.inputs is not None else []
            if op.opcodeIndex != code or len(inputs) <= limit:
                operators.append(op)
                continue
            output = subgraph.tensors[op.outputs[0]]
            level = 0
            while len(inputs) > limit:
                grouped = []
                for k in range(0, len(inputs), limit):
                    chunk = inputs[k : k + limit]
                    if len(chunk) == 1:
                        grouped.append(chunk[0])
                        continue
                    grouped.append(
                        _partial(fb, model, subgraph, op, output, chunk, f"{level}_{k // limit}")
                    )
                    operators.append(_operator_like(op, chunk, [grouped[-1]]))
                inputs, level = grouped, level + 1
            operators.append(_operator_like(op, inputs, list(op.outputs)))
            split += 1
        subgraph.operators = operators
    if not split:
        return data, 0
    builder = flatbuffers.Builder(len(data) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), split


FLOAT_CONSTANT_MARKER = b"keep_stablehlo_constant"


def drop_float_constant_marker(data: bytes) -> tuple[bytes, bool]:
    """The float model without LiteRT's keep-constants-float metadata entry, and whether it
    had one (False: the bytes as given)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    model = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    kept = [m for m in (model.metadata or []) if m.name != FLOAT_CONSTANT_MARKER]
    if len(kept) == len(model.metadata or []):
        return data, False
    model.metadata = kept
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), True


def _operator_like(op: Any, inputs: list[int], outputs: list[int]) -> Any:
    new = copy.deepcopy(op)
    new.inputs = list(inputs)
    new.outputs = list(outputs)
    new.intermediates = []
    return new


def _partial(
    fb: Any, model: Any, subgraph: Any, op: Any, output: Any, chunk: list[int], tag: str
) -> int:
    """A new tensor for a group's concatenation: the output's type and quantization, its shape
    with the group's size along the axis. Its index."""
    axis = op.builtinOptions.axis
    rank = len(output.shape)
    axis = axis + rank if axis < 0 else axis
    shape = list(output.shape)
    shape[axis] = sum(int(subgraph.tensors[i].shape[axis]) for i in chunk)
    tensor = copy.deepcopy(output)
    tensor.shape = shape
    if tensor.shapeSignature is not None and len(tensor.shapeSignature) == rank:
        signature = list(tensor.shapeSignature)
        signature[axis] = shape[axis]
        tensor.shapeSignature = signature
    name = output.name.decode() if isinstance(output.name, bytes) else str(output.name or "")
    tensor.name = f"{name}/group{tag}"
    model.buffers.append(fb.BufferT())
    tensor.buffer = len(model.buffers) - 1
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1
