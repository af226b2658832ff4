"""A minimal, read-only TFLite flatbuffer reader using only the standard library.

PlatformIO's Python has no TensorFlow (and must not import it), yet the build
needs a model's ops, tensor shapes and quantization. This reads exactly the
schema fields used below (tensorflow/compiler/mlir/lite/schema/schema.fbs).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional

from ..errors import ModelFileError

# schema.fbs enum TensorType
TENSOR_TYPES = {
    0: "float32",
    1: "float16",
    2: "int32",
    3: "uint8",
    4: "int64",
    5: "string",
    6: "bool",
    7: "int16",
    8: "complex64",
    9: "int8",
    10: "float64",
    11: "complex128",
    12: "uint64",
    13: "resource",
    14: "variant",
    15: "uint32",
    16: "uint16",
    17: "int4",
    18: "bfloat16",
}


class _Buf:
    """Bounds-checked access to flatbuffer tables, vectors and strings."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _unpack(self, fmt: str, pos: int) -> int:
        if pos < 0 or pos + struct.calcsize(fmt) > len(self.data):
            raise ValueError(f"offset {pos} outside the file")
        value: int = struct.unpack_from(fmt, self.data, pos)[0]
        return value

    def u32(self, pos: int) -> int:
        return self._unpack("<I", pos)

    def field_pos(self, table: int, index: int) -> Optional[int]:
        vtable = table - self._unpack("<i", table)
        vt_size = self._unpack("<H", vtable)
        slot = 4 + 2 * index
        if slot >= vt_size:
            return None
        off = self._unpack("<H", vtable + slot)
        return table + off if off else None

    def scalar(self, table: int, index: int, fmt: str, default: int = 0) -> int:
        pos = self.field_pos(table, index)
        return default if pos is None else self._unpack(fmt, pos)

    def ref(self, table: int, index: int) -> Optional[int]:
        pos = self.field_pos(table, index)
        return None if pos is None else pos + self.u32(pos)

    def vector(self, table: int, index: int) -> tuple[int, int]:
        """(start of elements, length); (0, 0) when absent."""
        pos = self.ref(table, index)
        if pos is None:
            return 0, 0
        length = self.u32(pos)
        if pos + 4 + length > len(self.data) + 8 * length:  # cheap sanity check
            raise ValueError("vector length outside the file")
        return pos + 4, length

    def tables(self, table: int, index: int) -> list[int]:
        start, length = self.vector(table, index)
        return [start + 4 * i + self.u32(start + 4 * i) for i in range(length)]

    def scalars(self, table: int, index: int, fmt: str) -> list[int]:
        start, length = self.vector(table, index)
        size = struct.calcsize(fmt)
        if length and start + size * length > len(self.data):
            raise ValueError("vector outside the file")
        return [struct.unpack_from(fmt, self.data, start + size * i)[0] for i in range(length)]

    def floats(self, table: int, index: int) -> list[float]:
        start, length = self.vector(table, index)
        if length and start + 4 * length > len(self.data):
            raise ValueError("vector outside the file")
        return [struct.unpack_from("<f", self.data, start + 4 * i)[0] for i in range(length)]

    def string(self, table: int, index: int) -> str:
        pos = self.ref(table, index)
        if pos is None:
            return ""
        length = self.u32(pos)
        return self.data[pos + 4 : pos + 4 + length].decode("utf-8", "replace")


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    buffer: int
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    has_data: bool

    @property
    def elements(self) -> int:
        count = 1
        for dim in self.shape:
            count *= max(dim, 1)
        return count


@dataclass(frozen=True)
class Operator:
    index: int
    builtin_code: int
    custom_code: str  # "" for builtin ops
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass(frozen=True)
class TFLiteModel:
    size: int
    version: int
    subgraph_count: int
    tensors: tuple[Tensor, ...]  # of the main subgraph
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]


def _read_tensor(buf: _Buf, table: int, index: int, buffers_with_data: set[int]) -> Tensor:
    quant = buf.ref(table, 4)
    scale: tuple[float, ...] = ()
    zero_point: tuple[int, ...] = ()
    if quant is not None:
        scale = tuple(buf.floats(quant, 2))
        zero_point = tuple(buf.scalars(quant, 3, "<q"))
    buffer_index = buf.scalar(table, 2, "<I")
    return Tensor(
        index=index,
        name=buf.string(table, 3),
        shape=tuple(buf.scalars(table, 0, "<i")),
        dtype=TENSOR_TYPES.get(buf.scalar(table, 1, "<b"), "unknown"),
        buffer=buffer_index,
        scale=scale,
        zero_point=zero_point,
        has_data=buffer_index in buffers_with_data,
    )


def parse_tflite(data: bytes, name: str = "model") -> TFLiteModel:
    """Parse the parts of a .tflite the plugin uses; ModelFileError if it is not one."""
    if len(data) < 16 or data[4:8] != b"TFL3":
        raise ModelFileError(
            f"{name} is not a TFLite flatbuffer (no TFL3 identifier"
            f"{', the file is empty' if not data else ''}).",
            "Provide a .tflite produced by TFLiteConverter, or the .onnx/.pth it came from.",
        )
    buf = _Buf(data)
    try:
        root = buf.u32(0)
        buffers = buf.tables(root, 4)
        with_data = set()
        for i, table in enumerate(buffers):
            _, length = buf.vector(table, 0)
            if length or buf.scalar(table, 2, "<Q"):
                with_data.add(i)
        codes = []
        for table in buf.tables(root, 1):
            deprecated = buf.scalar(table, 0, "<b")
            builtin = buf.scalar(table, 3, "<i")
            codes.append((max(deprecated, builtin), buf.string(table, 1)))
        subgraphs = buf.tables(root, 2)
        if not subgraphs:
            raise ValueError("no subgraph")
        main = subgraphs[0]
        tensors = tuple(
            _read_tensor(buf, t, i, with_data) for i, t in enumerate(buf.tables(main, 0))
        )
        operators = []
        for i, table in enumerate(buf.tables(main, 3)):
            code, custom = codes[buf.scalar(table, 0, "<I")]
            operators.append(
                Operator(
                    index=i,
                    builtin_code=code,
                    custom_code=custom if code == 32 else "",  # 32 = CUSTOM
                    inputs=tuple(buf.scalars(table, 1, "<i")),
                    outputs=tuple(buf.scalars(table, 2, "<i")),
                )
            )
        return TFLiteModel(
            size=len(data),
            version=buf.scalar(root, 0, "<I"),
            subgraph_count=len(subgraphs),
            tensors=tensors,
            operators=tuple(operators),
            inputs=tuple(buf.scalars(main, 1, "<i")),
            outputs=tuple(buf.scalars(main, 2, "<i")),
            description=buf.string(root, 3),
        )
    except (ValueError, IndexError, struct.error) as exc:
        raise ModelFileError(
            f"{name} is a damaged TFLite file ({exc}).",
            "Re-export the model; a truncated download or copy is the usual cause.",
        ) from None


# One scalar field of an operator's builtin options table: (name, struct format, default).
OptionField = tuple[str, str, float]


@dataclass(frozen=True)
class ModelDetails:
    """What code generation needs beyond `TFLiteModel`: each tensor's constant bytes and
    quantized dimension, each operator's builtin option values (main subgraph)."""

    buffers: tuple[bytes, ...]  # per tensor: its constant data, b"" for activations
    quantized_dimension: tuple[int, ...]  # per tensor
    options: tuple[dict[str, float], ...]  # per operator, by the caller's field names


def read_details(
    data: bytes,
    option_fields: dict[int, tuple[OptionField, ...]],
    name: str = "model",
) -> ModelDetails:
    """Constant data, quantized dimensions and builtin options (``option_fields``: builtin
    code -> the fields of its options table, in schema order) of a model `parse_tflite`
    accepted."""
    buf = _Buf(data)
    try:
        root = buf.u32(0)
        buffer_data = []
        for table in buf.tables(root, 4):
            start, length = buf.vector(table, 0)
            offset, size = buf.scalar(table, 1, "<Q"), buf.scalar(table, 2, "<Q")
            if length:
                buffer_data.append(data[start : start + length])
            elif offset > 1 and size:  # stored after the flatbuffer (models over 2 GB)
                buffer_data.append(data[offset : offset + size])
            else:
                buffer_data.append(b"")
        codes = []
        for table in buf.tables(root, 1):
            codes.append(max(buf.scalar(table, 0, "<b"), buf.scalar(table, 3, "<i")))
        main = buf.tables(root, 2)[0]
        tensors = buf.tables(main, 0)
        constant = []
        dimension = []
        for table in tensors:
            index = buf.scalar(table, 2, "<I")
            constant.append(buffer_data[index] if index < len(buffer_data) else b"")
            quant = buf.ref(table, 4)
            dimension.append(0 if quant is None else buf.scalar(quant, 6, "<i"))
        options: list[dict[str, float]] = []
        for table in buf.tables(main, 3):
            fields = option_fields.get(codes[buf.scalar(table, 0, "<I")], ())
            values: dict[str, float] = {}
            opts = buf.ref(table, 4)
            for slot, (field, fmt, default) in enumerate(fields):
                if opts is None:
                    values[field] = default
                elif fmt == "<f":
                    pos = buf.field_pos(opts, slot)
                    values[field] = (
                        default if pos is None else struct.unpack_from("<f", data, pos)[0]
                    )
                else:
                    values[field] = buf.scalar(opts, slot, fmt, int(default))
            options.append(values)
        return ModelDetails(tuple(constant), tuple(dimension), tuple(options))
    except (ValueError, IndexError, struct.error) as exc:
        raise ModelFileError(
            f"{name} is a damaged TFLite file ({exc}).",
            "Re-export the model; a truncated download or copy is the usual cause.",
        ) from None
