"""Tensor lifetimes of a parsed model and the activation bytes alive at each operator."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from .tflite_reader import TFLiteModel

# Bytes per element of each tensor type (int4 packs two elements per byte).
DTYPE_BYTES: Mapping[str, float] = {
    "bool": 1, "int8": 1, "uint8": 1, "int4": 0.5,
    "int16": 2, "uint16": 2, "float16": 2, "bfloat16": 2,
    "int32": 4, "uint32": 4, "float32": 4,
    "int64": 8, "uint64": 8, "float64": 8, "complex64": 8, "complex128": 16,
}  # fmt: skip


@dataclass(frozen=True)
class Lifetime:
    tensor: int
    first: int  # index of the first operator that needs the tensor
    last: int  # index of the last operator that needs it
    size: int  # bytes


def tensor_bytes(model: TFLiteModel, index: int) -> int:
    tensor = model.tensor(index)
    return math.ceil(tensor.elements * DTYPE_BYTES.get(tensor.dtype, 0))


def lifetimes(model: TFLiteModel) -> list[Lifetime]:
    """Activation tensors (no constant data) from first producer to last consumer.

    A model input is alive from the first operator, a model output until the last.
    """
    count = len(model.operators)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for op in model.operators:
        for index in (*op.inputs, *op.outputs):
            if index < 0 or model.tensor(index).has_data:
                continue
            first.setdefault(index, op.index)
            last[index] = op.index
    for index in model.inputs:
        if index in first:
            first[index] = 0
    for index in model.outputs:
        if index in last:
            last[index] = count - 1
    return [Lifetime(i, first[i], last[i], tensor_bytes(model, i)) for i in sorted(first)]


def arena_use(model: TFLiteModel) -> list[int]:
    """Per operator, the bytes of every activation tensor alive while it runs."""
    use = [0] * len(model.operators)
    for life in lifetimes(model):
        for i in range(life.first, life.last + 1):
            use[i] += life.size
    return use
