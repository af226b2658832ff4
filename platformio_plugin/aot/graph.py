"""A .tflite model as the ahead-of-time generator sees it: nodes with their builtin options,
tensors with shape, quantization and constant bytes (main subgraph)."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.layers import op_name
from ..analysis.tflite_reader import OptionField, parse_tflite, read_details

DTYPE_BYTES = {"int16": 2, "int32": 4, "float32": 4}  # any other dtype the generator takes: 1

# builtin code -> the scalar fields of its options table, in schema.fbs order.
_ACT = ("activation", "<b", 0)
OPTION_FIELDS: dict[int, tuple[OptionField, ...]] = {
    1: (("padding", "<b", 0), ("stride_w", "<i", 0), ("stride_h", "<i", 0),
        ("filter_w", "<i", 0), ("filter_h", "<i", 0), _ACT),  # AVERAGE_POOL_2D
    3: (("padding", "<b", 0), ("stride_w", "<i", 0), ("stride_h", "<i", 0), _ACT,
        ("dilation_w", "<i", 1), ("dilation_h", "<i", 1)),  # CONV_2D
    4: (("padding", "<b", 0), ("stride_w", "<i", 0), ("stride_h", "<i", 0),
        ("depth_multiplier", "<i", 0), _ACT,
        ("dilation_w", "<i", 1), ("dilation_h", "<i", 1)),  # DEPTHWISE_CONV_2D
    9: (_ACT, ("weights_format", "<b", 0), ("keep_num_dims", "<b", 0)),  # FULLY_CONNECTED
    17: (("padding", "<b", 0), ("stride_w", "<i", 0), ("stride_h", "<i", 0),
         ("filter_w", "<i", 0), ("filter_h", "<i", 0), _ACT),  # MAX_POOL_2D
    25: (("beta", "<f", 0.0),),  # SOFTMAX
    0: (_ACT, ("pot_scale_int16", "<b", 1)),  # ADD
    2: (("axis", "<i", 0), _ACT),  # CONCATENATION
    45: (("begin_mask", "<i", 0), ("end_mask", "<i", 0), ("ellipsis_mask", "<i", 0),
         ("new_axis_mask", "<i", 0), ("shrink_axis_mask", "<i", 0),
         ("offset", "<b", 0)),  # STRIDED_SLICE
    44: (_ACT, ("cell_clip", "<f", 0.0), ("proj_clip", "<f", 0.0), ("time_major", "<b", 0),
         ("asymmetric_quantize_inputs", "<b", 0),
         ("diagonal_recurrent_tensors", "<b", 0)),  # UNIDIRECTIONAL_SEQUENCE_LSTM
}  # fmt: skip


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    quantized_dimension: int
    data: bytes  # constant bytes; b"" for an activation

    @property
    def elements(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count

    @property
    def nbytes(self) -> int:
        """Bytes of the tensor in the arena (as TfLiteTypeGetSize)."""
        return self.elements * DTYPE_BYTES.get(self.dtype, 1)

    @property
    def is_constant(self) -> bool:
        return bool(self.data)


@dataclass(frozen=True)
class Node:
    index: int
    op: str
    inputs: tuple[int, ...]  # -1: an optional input left out
    outputs: tuple[int, ...]
    options: dict[str, float]

    def option(self, name: str) -> int:
        return int(self.options[name])


@dataclass(frozen=True)
class Graph:
    name: str
    tensors: tuple[Tensor, ...]
    nodes: tuple[Node, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]


def read_graph(data: bytes, name: str) -> Graph:
    """The main subgraph of a .tflite; ModelFileError when it is not one."""
    model = parse_tflite(data, name)
    details = read_details(data, OPTION_FIELDS, name)
    tensors = tuple(
        Tensor(
            index=t.index,
            name=t.name,
            shape=t.shape,
            dtype=t.dtype,
            scale=t.scale,
            zero_point=t.zero_point,
            quantized_dimension=details.quantized_dimension[t.index],
            data=details.buffers[t.index],
        )
        for t in model.tensors
    )
    nodes = tuple(
        Node(op.index, op_name(op), op.inputs, op.outputs, details.options[op.index])
        for op in model.operators
    )
    return Graph(name, tensors, nodes, model.inputs, model.outputs)
