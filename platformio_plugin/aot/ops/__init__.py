"""One emitter per op, all with the signature of `common` (``emit(node, graph, dsp)``)."""

from __future__ import annotations

from typing import Callable, Mapping

from ..graph import Graph, Node
from . import (
    add,
    concatenation,
    conv_2d,
    depthwise_conv_2d,
    elementwise,
    fully_connected,
    lstm,
    mean,
    pad,
    pooling,
    reshape,
    softmax,
    strided_slice,
    transpose,
)
from .common import NodeCode

Emitter = Callable[[Node, Graph, bool], NodeCode]

EMITTERS: Mapping[str, Emitter] = {
    "FULLY_CONNECTED": fully_connected.emit,
    "CONV_2D": conv_2d.emit,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d.emit,
    "MAX_POOL_2D": pooling.emit_max,
    "AVERAGE_POOL_2D": pooling.emit_average,
    "RESHAPE": reshape.emit,
    "SOFTMAX": softmax.emit,
    "TRANSPOSE": transpose.emit,
    "ADD": add.emit,
    "PAD": pad.emit,
    "PADV2": pad.emit,
    "MEAN": mean.emit,
    "CONCATENATION": concatenation.emit,
    "STRIDED_SLICE": strided_slice.emit,
    "LOGISTIC": elementwise.emit_logistic,
    "TANH": elementwise.emit_tanh,
    "QUANTIZE": elementwise.emit_quantize,
    "DEQUANTIZE": elementwise.emit_dequantize,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": lstm.emit,
}
