# ruff: noqa: E501  (one op per line reads best as a table)
"""Every op TFLite Micro can run at the pinned commit, as plain data.

For each builtin op: its schema name and ``BuiltinOperator`` code, the
``MicroMutableOpResolver`` method, the default registration, the int8-only
registration that the CMSIS-NN kernel directory defines (``None`` when the op
has none), and the kernel sources under the TFLM root it needs (the file that
defines the registration first, then the ``*_common.cc`` style helpers it
reaches through its includes). Kernel helpers every op needs
(``kernel_util.cc``, ``micro_tensor_utils.cc``) are not listed per op; see
``selection.py``.

Custom ops (``AddCustom`` in the resolver: the signal library, circular buffer,
detection post-processing, decode) are a separate table.

The table was generated once by reading the upstream headers and is checked
against ``micro_mutable_op_resolver.h`` by ``check_against_header`` in the
tests whenever the sources are present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Iterable, Mapping, Optional, Union

from .pins import TFLM_COMMIT

__all__ = ["TFLM_COMMIT", "BUILTIN_OPS", "lookup"]


@dataclass(frozen=True)
class BuiltinOp:
    """A builtin TFLite op TFLM has a kernel for."""

    name: str  # schema name, e.g. "CONV_2D"
    code: int  # enum BuiltinOperator value
    method: str  # MicroMutableOpResolver method, e.g. "AddConv2D"
    registration: str  # default registration expression, e.g. "tflite::Register_CONV_2D()"
    int8_registration: Optional[str]  # int8-only registration (CMSIS-NN defines it), or None
    sources: tuple[str, ...]  # kernel sources relative to the TFLM root

    def resolver_call(self, int8_only: bool = False) -> str:
        """The C++ call on a resolver, e.g. ``AddConv2D(tflite::Register_CONV_2D_INT8())``."""
        if int8_only and self.int8_registration and self.name not in UNUSED_INT8_REGISTRATIONS:
            return f"{self.method}({self.int8_registration})"
        return f"{self.method}()"


@dataclass(frozen=True)
class CustomOp:
    """A custom op (``OperatorCode.custom_code``) TFLM has a kernel for."""

    name: str  # custom_code string in the model, e.g. "SignalWindow"
    method: str  # MicroMutableOpResolver method, e.g. "AddWindow"
    registration: str  # registration expression the method uses
    sources: tuple[str, ...]  # sources relative to the TFLM root
    third_party: tuple[str, ...]  # extra upstream trees it needs ("kissfft"), not pinned here

    def resolver_call(self, int8_only: bool = False) -> str:
        """The C++ call on a resolver; custom ops take no registration argument."""
        return f"{self.method}()"


Op = Union[BuiltinOp, CustomOp]

# Int8-only registrations never used. CMSIS-NN's Register_UNIDIRECTIONAL_SEQUENCE_LSTM_INT8()
# runs UnidirectionalSequenceLstmEvalInt8 (kernels/cmsis_nn/unidirectional_sequence_lstm.cc),
# which asserts int16 weights (`TFLITE_DCHECK(weight_type == kTfLiteInt16 && ...)`), so an
# int8x8_16 LSTM (int8 weights: what the TFLite converter's full-int8 quantization writes) aborts
# in Invoke (exit code 1). The default registration's Eval sends int8 weights to the same
# CMSIS-NN kernel (CMSIS_NN_EvalInteger8x8_16Lstm).
UNUSED_INT8_REGISTRATIONS: Final = frozenset({"UNIDIRECTIONAL_SEQUENCE_LSTM"})

# Data generated once from tflite-micro@90b983c2b3f1480642e040bbd2ddb37b998f3424:
#   tensorflow/lite/micro/micro_mutable_op_resolver.h  (Add* methods, op names, default registrations)
#   tensorflow/lite/micro/kernels/*.h + kernels/cmsis_nn/*.cc  (int8-only registrations)
#   tensorflow/lite/micro/kernels/*.cc, signal/**/*.cc  (where each registration is defined + helpers)
#   tensorflow/compiler/mlir/lite/schema/schema.fbs  (enum BuiltinOperator)
# Verified against the header by check_against_header() in the tests.

_K = "tensorflow/lite/micro/kernels/"

# fmt: off
BUILTIN_OPS: Final[Mapping[str, BuiltinOp]] = {
    "ABS": BuiltinOp("ABS", 101, "AddAbs", "tflite::Register_ABS()", None, (_K + "elementwise.cc",)),
    "ADD": BuiltinOp("ADD", 0, "AddAdd", "tflite::Register_ADD()", "tflite::Register_ADD_INT8()", (_K + "add.cc", _K + "add_common.cc")),
    "ADD_N": BuiltinOp("ADD_N", 106, "AddAddN", "tflite::Register_ADD_N()", None, (_K + "add_n.cc",)),
    "ARG_MAX": BuiltinOp("ARG_MAX", 56, "AddArgMax", "tflite::Register_ARG_MAX()", None, (_K + "arg_min_max.cc",)),
    "ARG_MIN": BuiltinOp("ARG_MIN", 79, "AddArgMin", "tflite::Register_ARG_MIN()", None, (_K + "arg_min_max.cc",)),
    "ASSIGN_VARIABLE": BuiltinOp("ASSIGN_VARIABLE", 144, "AddAssignVariable", "tflite::Register_ASSIGN_VARIABLE()", None, (_K + "assign_variable.cc",)),
    "AVERAGE_POOL_2D": BuiltinOp("AVERAGE_POOL_2D", 1, "AddAveragePool2D", "tflite::Register_AVERAGE_POOL_2D()", "tflite::Register_AVERAGE_POOL_2D_INT8()", (_K + "pooling.cc", _K + "pooling_common.cc")),
    "BATCH_MATMUL": BuiltinOp("BATCH_MATMUL", 126, "AddBatchMatMul", "tflite::Register_BATCH_MATMUL()", "tflite::Register_BATCH_MATMUL_INT8()", (_K + "batch_matmul.cc", _K + "batch_matmul_common.cc")),
    "BATCH_TO_SPACE_ND": BuiltinOp("BATCH_TO_SPACE_ND", 37, "AddBatchToSpaceNd", "tflite::Register_BATCH_TO_SPACE_ND()", None, (_K + "batch_to_space_nd.cc",)),
    "BROADCAST_ARGS": BuiltinOp("BROADCAST_ARGS", 145, "AddBroadcastArgs", "tflite::Register_BROADCAST_ARGS()", None, (_K + "broadcast_args.cc",)),
    "BROADCAST_TO": BuiltinOp("BROADCAST_TO", 130, "AddBroadcastTo", "tflite::Register_BROADCAST_TO()", None, (_K + "broadcast_to.cc",)),
    "CALL_ONCE": BuiltinOp("CALL_ONCE", 129, "AddCallOnce", "tflite::Register_CALL_ONCE()", None, (_K + "call_once.cc",)),
    "CAST": BuiltinOp("CAST", 53, "AddCast", "tflite::Register_CAST()", None, (_K + "cast.cc",)),
    "CEIL": BuiltinOp("CEIL", 104, "AddCeil", "tflite::Register_CEIL()", None, (_K + "ceil.cc",)),
    "CONCATENATION": BuiltinOp("CONCATENATION", 2, "AddConcatenation", "tflite::Register_CONCATENATION()", None, (_K + "concatenation.cc",)),
    "CONV_2D": BuiltinOp("CONV_2D", 3, "AddConv2D", "tflite::Register_CONV_2D()", "tflite::Register_CONV_2D_INT8()", (_K + "conv.cc", _K + "conv_common.cc")),
    "COS": BuiltinOp("COS", 108, "AddCos", "tflite::Register_COS()", None, (_K + "elementwise.cc",)),
    "CUMSUM": BuiltinOp("CUMSUM", 128, "AddCumSum", "tflite::Register_CUMSUM()", None, (_K + "cumsum.cc",)),
    "DEPTH_TO_SPACE": BuiltinOp("DEPTH_TO_SPACE", 5, "AddDepthToSpace", "tflite::Register_DEPTH_TO_SPACE()", None, (_K + "depth_to_space.cc",)),
    "DEPTHWISE_CONV_2D": BuiltinOp("DEPTHWISE_CONV_2D", 4, "AddDepthwiseConv2D", "tflite::Register_DEPTHWISE_CONV_2D()", "tflite::Register_DEPTHWISE_CONV_2D_INT8()", (_K + "depthwise_conv.cc", _K + "conv_common.cc", _K + "depthwise_conv_common.cc")),
    "DEQUANTIZE": BuiltinOp("DEQUANTIZE", 6, "AddDequantize", "tflite::Register_DEQUANTIZE()", None, (_K + "dequantize.cc", _K + "dequantize_common.cc")),
    "DIV": BuiltinOp("DIV", 42, "AddDiv", "tflite::Register_DIV()", None, (_K + "div.cc",)),
    "DYNAMIC_UPDATE_SLICE": BuiltinOp("DYNAMIC_UPDATE_SLICE", 151, "AddDynamicUpdateSlice", "tflite::Register_DYNAMIC_UPDATE_SLICE()", None, (_K + "dynamic_update_slice.cc",)),
    "EMBEDDING_LOOKUP": BuiltinOp("EMBEDDING_LOOKUP", 7, "AddEmbeddingLookup", "tflite::Register_EMBEDDING_LOOKUP()", None, (_K + "embedding_lookup.cc",)),
    "ELU": BuiltinOp("ELU", 111, "AddElu", "tflite::Register_ELU()", None, (_K + "elu.cc",)),
    "EQUAL": BuiltinOp("EQUAL", 71, "AddEqual", "tflite::Register_EQUAL()", None, (_K + "comparisons.cc",)),
    "EXP": BuiltinOp("EXP", 47, "AddExp", "tflite::Register_EXP()", None, (_K + "exp.cc",)),
    "EXPAND_DIMS": BuiltinOp("EXPAND_DIMS", 70, "AddExpandDims", "tflite::Register_EXPAND_DIMS()", None, (_K + "expand_dims.cc",)),
    "FILL": BuiltinOp("FILL", 94, "AddFill", "tflite::Register_FILL()", None, (_K + "fill.cc",)),
    "FLOOR": BuiltinOp("FLOOR", 8, "AddFloor", "tflite::Register_FLOOR()", None, (_K + "floor.cc",)),
    "FLOOR_DIV": BuiltinOp("FLOOR_DIV", 90, "AddFloorDiv", "tflite::Register_FLOOR_DIV()", None, (_K + "floor_div.cc",)),
    "FLOOR_MOD": BuiltinOp("FLOOR_MOD", 95, "AddFloorMod", "tflite::Register_FLOOR_MOD()", None, (_K + "floor_mod.cc",)),
    "FULLY_CONNECTED": BuiltinOp("FULLY_CONNECTED", 9, "AddFullyConnected", "tflite::Register_FULLY_CONNECTED()", "tflite::Register_FULLY_CONNECTED_INT8()", (_K + "fully_connected.cc", _K + "fully_connected_common.cc")),
    "GATHER": BuiltinOp("GATHER", 36, "AddGather", "tflite::Register_GATHER()", None, (_K + "gather.cc",)),
    "GATHER_ND": BuiltinOp("GATHER_ND", 107, "AddGatherNd", "tflite::Register_GATHER_ND()", None, (_K + "gather_nd.cc",)),
    "GREATER": BuiltinOp("GREATER", 61, "AddGreater", "tflite::Register_GREATER()", None, (_K + "comparisons.cc",)),
    "GREATER_EQUAL": BuiltinOp("GREATER_EQUAL", 62, "AddGreaterEqual", "tflite::Register_GREATER_EQUAL()", None, (_K + "comparisons.cc",)),
    "HARD_SWISH": BuiltinOp("HARD_SWISH", 117, "AddHardSwish", "tflite::Register_HARD_SWISH()", None, (_K + "hard_swish.cc", _K + "hard_swish_common.cc")),
    "IF": BuiltinOp("IF", 118, "AddIf", "tflite::Register_IF()", None, (_K + "if.cc",)),
    "L2_NORMALIZATION": BuiltinOp("L2_NORMALIZATION", 11, "AddL2Normalization", "tflite::Register_L2_NORMALIZATION()", None, (_K + "l2norm.cc",)),
    "L2_POOL_2D": BuiltinOp("L2_POOL_2D", 12, "AddL2Pool2D", "tflite::Register_L2_POOL_2D()", None, (_K + "l2_pool_2d.cc",)),
    "LEAKY_RELU": BuiltinOp("LEAKY_RELU", 98, "AddLeakyRelu", "tflite::Register_LEAKY_RELU()", None, (_K + "leaky_relu.cc", _K + "leaky_relu_common.cc")),
    "LESS": BuiltinOp("LESS", 58, "AddLess", "tflite::Register_LESS()", None, (_K + "comparisons.cc",)),
    "LESS_EQUAL": BuiltinOp("LESS_EQUAL", 63, "AddLessEqual", "tflite::Register_LESS_EQUAL()", None, (_K + "comparisons.cc",)),
    "LOG": BuiltinOp("LOG", 73, "AddLog", "tflite::Register_LOG()", None, (_K + "elementwise.cc",)),
    "LOGICAL_AND": BuiltinOp("LOGICAL_AND", 86, "AddLogicalAnd", "tflite::Register_LOGICAL_AND()", None, (_K + "logical.cc", _K + "logical_common.cc")),
    "LOGICAL_NOT": BuiltinOp("LOGICAL_NOT", 87, "AddLogicalNot", "tflite::Register_LOGICAL_NOT()", None, (_K + "elementwise.cc",)),
    "LOGICAL_OR": BuiltinOp("LOGICAL_OR", 84, "AddLogicalOr", "tflite::Register_LOGICAL_OR()", None, (_K + "logical.cc", _K + "logical_common.cc")),
    "LOGISTIC": BuiltinOp("LOGISTIC", 14, "AddLogistic", "tflite::Register_LOGISTIC()", None, (_K + "logistic.cc", _K + "logistic_common.cc")),
    "LOG_SOFTMAX": BuiltinOp("LOG_SOFTMAX", 50, "AddLogSoftmax", "tflite::Register_LOG_SOFTMAX()", None, (_K + "log_softmax.cc",)),
    "MAXIMUM": BuiltinOp("MAXIMUM", 55, "AddMaximum", "tflite::Register_MAXIMUM()", "tflite::Register_MAXIMUM_INT8()", (_K + "maximum_minimum.cc",)),
    "MAX_POOL_2D": BuiltinOp("MAX_POOL_2D", 17, "AddMaxPool2D", "tflite::Register_MAX_POOL_2D()", "tflite::Register_MAX_POOL_2D_INT8()", (_K + "pooling.cc", _K + "pooling_common.cc")),
    "MIRROR_PAD": BuiltinOp("MIRROR_PAD", 100, "AddMirrorPad", "tflite::Register_MIRROR_PAD()", None, (_K + "mirror_pad.cc",)),
    "MEAN": BuiltinOp("MEAN", 40, "AddMean", "tflite::Register_MEAN()", None, (_K + "reduce.cc", _K + "reduce_common.cc")),
    "MINIMUM": BuiltinOp("MINIMUM", 57, "AddMinimum", "tflite::Register_MINIMUM()", "tflite::Register_MINIMUM_INT8()", (_K + "maximum_minimum.cc",)),
    "MUL": BuiltinOp("MUL", 18, "AddMul", "tflite::Register_MUL()", "tflite::Register_MUL_INT8()", (_K + "mul.cc", _K + "mul_common.cc")),
    "NEG": BuiltinOp("NEG", 59, "AddNeg", "tflite::Register_NEG()", None, (_K + "neg.cc",)),
    "NOT_EQUAL": BuiltinOp("NOT_EQUAL", 72, "AddNotEqual", "tflite::Register_NOT_EQUAL()", None, (_K + "comparisons.cc",)),
    "PACK": BuiltinOp("PACK", 83, "AddPack", "tflite::Register_PACK()", None, (_K + "pack.cc",)),
    "PAD": BuiltinOp("PAD", 34, "AddPad", "tflite::Register_PAD()", "tflite::Register_PAD_INT8()", (_K + "pad.cc", _K + "pad_common.cc")),
    "PADV2": BuiltinOp("PADV2", 60, "AddPadV2", "tflite::Register_PADV2()", None, (_K + "pad.cc", _K + "pad_common.cc")),
    "PRELU": BuiltinOp("PRELU", 54, "AddPrelu", "tflite::Register_PRELU()", None, (_K + "prelu.cc", _K + "prelu_common.cc")),
    "QUANTIZE": BuiltinOp("QUANTIZE", 114, "AddQuantize", "tflite::Register_QUANTIZE()", None, (_K + "quantize.cc", _K + "quantize_common.cc")),
    "READ_VARIABLE": BuiltinOp("READ_VARIABLE", 143, "AddReadVariable", "tflite::Register_READ_VARIABLE()", None, (_K + "read_variable.cc",)),
    "REDUCE_ALL": BuiltinOp("REDUCE_ALL", 140, "AddReduceAll", "tflite::Register_REDUCE_ALL()", None, (_K + "reduce.cc", _K + "reduce_common.cc")),
    "REDUCE_MAX": BuiltinOp("REDUCE_MAX", 82, "AddReduceMax", "tflite::Register_REDUCE_MAX()", None, (_K + "reduce.cc", _K + "reduce_common.cc")),
    "REDUCE_MIN": BuiltinOp("REDUCE_MIN", 89, "AddReduceMin", "tflite::Register_REDUCE_MIN()", None, (_K + "reduce.cc", _K + "reduce_common.cc")),
    "RELU": BuiltinOp("RELU", 19, "AddRelu", "tflite::Register_RELU()", None, (_K + "activations.cc", _K + "activations_common.cc")),
    "RELU6": BuiltinOp("RELU6", 21, "AddRelu6", "tflite::Register_RELU6()", None, (_K + "activations.cc", _K + "activations_common.cc")),
    "RESHAPE": BuiltinOp("RESHAPE", 22, "AddReshape", "tflite::Register_RESHAPE()", None, (_K + "reshape.cc", _K + "reshape_common.cc")),
    "RESIZE_BILINEAR": BuiltinOp("RESIZE_BILINEAR", 23, "AddResizeBilinear", "tflite::Register_RESIZE_BILINEAR()", None, (_K + "resize_bilinear.cc",)),
    "RESIZE_NEAREST_NEIGHBOR": BuiltinOp("RESIZE_NEAREST_NEIGHBOR", 97, "AddResizeNearestNeighbor", "tflite::Register_RESIZE_NEAREST_NEIGHBOR()", None, (_K + "resize_nearest_neighbor.cc",)),
    "REVERSE_V2": BuiltinOp("REVERSE_V2", 105, "AddReverseV2", "tflite::Register_REVERSE_V2()", None, (_K + "reverse.cc",)),
    "ROUND": BuiltinOp("ROUND", 116, "AddRound", "tflite::Register_ROUND()", None, (_K + "round.cc",)),
    "RSQRT": BuiltinOp("RSQRT", 76, "AddRsqrt", "tflite::Register_RSQRT()", None, (_K + "elementwise.cc",)),
    "SELECT_V2": BuiltinOp("SELECT_V2", 123, "AddSelectV2", "tflite::Register_SELECT_V2()", None, (_K + "select.cc",)),
    "SHAPE": BuiltinOp("SHAPE", 77, "AddShape", "tflite::Register_SHAPE()", None, (_K + "shape.cc",)),
    "SIN": BuiltinOp("SIN", 66, "AddSin", "tflite::Register_SIN()", None, (_K + "elementwise.cc",)),
    "SLICE": BuiltinOp("SLICE", 65, "AddSlice", "tflite::Register_SLICE()", None, (_K + "slice.cc",)),
    "SOFTMAX": BuiltinOp("SOFTMAX", 25, "AddSoftmax", "tflite::Register_SOFTMAX()", "tflite::Register_SOFTMAX_INT8()", (_K + "softmax.cc", _K + "softmax_common.cc")),
    "SPACE_TO_BATCH_ND": BuiltinOp("SPACE_TO_BATCH_ND", 38, "AddSpaceToBatchNd", "tflite::Register_SPACE_TO_BATCH_ND()", None, (_K + "space_to_batch_nd.cc",)),
    "SPACE_TO_DEPTH": BuiltinOp("SPACE_TO_DEPTH", 26, "AddSpaceToDepth", "tflite::Register_SPACE_TO_DEPTH()", None, (_K + "space_to_depth.cc",)),
    "SPLIT": BuiltinOp("SPLIT", 49, "AddSplit", "tflite::Register_SPLIT()", None, (_K + "split.cc",)),
    "SPLIT_V": BuiltinOp("SPLIT_V", 102, "AddSplitV", "tflite::Register_SPLIT_V()", None, (_K + "split_v.cc",)),
    "SQUEEZE": BuiltinOp("SQUEEZE", 43, "AddSqueeze", "tflite::Register_SQUEEZE()", None, (_K + "squeeze.cc",)),
    "SQRT": BuiltinOp("SQRT", 75, "AddSqrt", "tflite::Register_SQRT()", None, (_K + "elementwise.cc",)),
    "SQUARE": BuiltinOp("SQUARE", 92, "AddSquare", "tflite::Register_SQUARE()", None, (_K + "elementwise.cc",)),
    "SQUARED_DIFFERENCE": BuiltinOp("SQUARED_DIFFERENCE", 99, "AddSquaredDifference", "tflite::Register_SQUARED_DIFFERENCE()", None, (_K + "squared_difference.cc",)),
    "STRIDED_SLICE": BuiltinOp("STRIDED_SLICE", 45, "AddStridedSlice", "tflite::Register_STRIDED_SLICE()", None, (_K + "strided_slice.cc", _K + "strided_slice_common.cc")),
    "SUB": BuiltinOp("SUB", 41, "AddSub", "tflite::Register_SUB()", None, (_K + "sub.cc", _K + "sub_common.cc")),
    "SUM": BuiltinOp("SUM", 74, "AddSum", "tflite::Register_SUM()", None, (_K + "reduce.cc", _K + "reduce_common.cc")),
    "SVDF": BuiltinOp("SVDF", 27, "AddSvdf", "tflite::Register_SVDF()", "tflite::Register_SVDF_INT8()", (_K + "svdf.cc", _K + "svdf_common.cc")),
    "TANH": BuiltinOp("TANH", 28, "AddTanh", "tflite::Register_TANH()", None, (_K + "tanh.cc",)),
    "TRANSPOSE_CONV": BuiltinOp("TRANSPOSE_CONV", 67, "AddTransposeConv", "tflite::Register_TRANSPOSE_CONV()", "tflite::Register_TRANSPOSE_CONV_INT8()", (_K + "transpose_conv.cc",)),
    "TRANSPOSE": BuiltinOp("TRANSPOSE", 39, "AddTranspose", "tflite::Register_TRANSPOSE()", "tflite::Register_TRANSPOSE_INT8()", (_K + "transpose.cc", _K + "transpose_common.cc")),
    "UNPACK": BuiltinOp("UNPACK", 88, "AddUnpack", "tflite::Register_UNPACK()", None, (_K + "unpack.cc",)),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": BuiltinOp("UNIDIRECTIONAL_SEQUENCE_LSTM", 44, "AddUnidirectionalSequenceLSTM", "tflite::Register_UNIDIRECTIONAL_SEQUENCE_LSTM()", "tflite::Register_UNIDIRECTIONAL_SEQUENCE_LSTM_INT8()", (_K + "unidirectional_sequence_lstm.cc", _K + "fully_connected_common.cc", _K + "lstm_eval.cc", _K + "lstm_eval_common.cc")),
    "VAR_HANDLE": BuiltinOp("VAR_HANDLE", 142, "AddVarHandle", "tflite::Register_VAR_HANDLE()", None, (_K + "var_handle.cc",)),
    "WHILE": BuiltinOp("WHILE", 119, "AddWhile", "tflite::Register_WHILE()", None, (_K + "while.cc",)),
    "ZEROS_LIKE": BuiltinOp("ZEROS_LIKE", 93, "AddZerosLike", "tflite::Register_ZEROS_LIKE()", None, (_K + "zeros_like.cc",)),
}

CUSTOM_OPS: Final[Mapping[str, CustomOp]] = {
    "CIRCULAR_BUFFER": CustomOp("CIRCULAR_BUFFER", "AddCircularBuffer", "tflite::Register_CIRCULAR_BUFFER()", (_K + "circular_buffer.cc", _K + "circular_buffer_common.cc", _K + "circular_buffer_flexbuffers_generated_data.cc"), ()),
    "TFLM_DECODE": CustomOp("TFLM_DECODE", "AddDecode", "tflite::Register_DECODE()", (_K + "decode.cc", _K + "decode_state.cc", _K + "decode_state_huffman.cc", _K + "decode_state_lut.cc", _K + "decode_state_prune.cc"), ()),
    "SignalDelay": CustomOp("SignalDelay", "AddDelay", "tflite::tflm_signal::Register_DELAY()", ("signal/micro/kernels/delay.cc", "signal/src/circular_buffer.cc"), ()),
    "TFLite_Detection_PostProcess": CustomOp("TFLite_Detection_PostProcess", "AddDetectionPostprocess", "tflite::Register_DETECTION_POSTPROCESS()", (_K + "detection_postprocess.cc",), ()),
    "SignalEnergy": CustomOp("SignalEnergy", "AddEnergy", "tflite::tflm_signal::Register_ENERGY()", ("signal/micro/kernels/energy.cc", "signal/src/energy.cc"), ()),
    "SignalFftAutoScale": CustomOp("SignalFftAutoScale", "AddFftAutoScale", "tflite::tflm_signal::Register_FFT_AUTO_SCALE()", ("signal/micro/kernels/fft_auto_scale_kernel.cc", "signal/micro/kernels/fft_auto_scale_common.cc", "signal/src/fft_auto_scale.cc", "signal/src/max_abs.cc", "signal/src/msb_32.cc", "signal/src/msb_64.cc"), ()),
    "SignalFilterBank": CustomOp("SignalFilterBank", "AddFilterBank", "tflite::tflm_signal::Register_FILTER_BANK()", ("signal/micro/kernels/filter_bank.cc", "signal/src/filter_bank.cc"), ()),
    "SignalFilterBankLog": CustomOp("SignalFilterBankLog", "AddFilterBankLog", "tflite::tflm_signal::Register_FILTER_BANK_LOG()", ("signal/micro/kernels/filter_bank_log.cc", "signal/src/filter_bank_log.cc", "signal/src/log.cc", "signal/src/msb_32.cc", "signal/src/msb_64.cc"), ()),
    "SignalFilterBankSquareRoot": CustomOp("SignalFilterBankSquareRoot", "AddFilterBankSquareRoot", "tflite::tflm_signal::Register_FILTER_BANK_SQUARE_ROOT()", ("signal/micro/kernels/filter_bank_square_root.cc", "signal/micro/kernels/filter_bank_square_root_common.cc", "signal/src/filter_bank_square_root.cc", "signal/src/msb_32.cc", "signal/src/msb_64.cc", "signal/src/square_root_32.cc", "signal/src/square_root_64.cc"), ()),
    "SignalFilterBankSpectralSubtraction": CustomOp("SignalFilterBankSpectralSubtraction", "AddFilterBankSpectralSubtraction", "tflite::tflm_signal::Register_FILTER_BANK_SPECTRAL_SUBTRACTION()", ("signal/micro/kernels/filter_bank_spectral_subtraction.cc", "signal/src/filter_bank_spectral_subtraction.cc"), ()),
    "SignalFramer": CustomOp("SignalFramer", "AddFramer", "tflite::tflm_signal::Register_FRAMER()", ("signal/micro/kernels/framer.cc", "signal/src/circular_buffer.cc"), ()),
    "SignalIrfft": CustomOp("SignalIrfft", "AddIrfft", "tflite::tflm_signal::Register_IRFFT()", ("signal/micro/kernels/irfft.cc", "signal/src/irfft_float.cc", "signal/src/irfft_int16.cc", "signal/src/irfft_int32.cc"), ("kissfft",)),
    "SignalOverlapAdd": CustomOp("SignalOverlapAdd", "AddOverlapAdd", "tflite::tflm_signal::Register_OVERLAP_ADD()", ("signal/micro/kernels/overlap_add.cc", "signal/src/overlap_add.cc"), ()),
    "SignalPCAN": CustomOp("SignalPCAN", "AddPCAN", "tflite::tflm_signal::Register_PCAN()", ("signal/micro/kernels/pcan.cc", "signal/src/pcan_argc_fixed.cc"), ()),
    "SignalRfft": CustomOp("SignalRfft", "AddRfft", "tflite::tflm_signal::Register_RFFT()", ("signal/micro/kernels/rfft.cc", "signal/src/rfft_float.cc", "signal/src/rfft_int16.cc", "signal/src/rfft_int32.cc"), ("kissfft",)),
    "SignalStacker": CustomOp("SignalStacker", "AddStacker", "tflite::tflm_signal::Register_STACKER()", ("signal/micro/kernels/stacker.cc", "signal/src/circular_buffer.cc"), ()),
    "SignalWindow": CustomOp("SignalWindow", "AddWindow", "tflite::tflm_signal::Register_WINDOW()", ("signal/micro/kernels/window.cc", "signal/src/window.cc"), ()),
}

# enum BuiltinOperator, every value of the schema (also the ops TFLM has no kernel for).
BUILTIN_CODES: Final[Mapping[int, str]] = {
    0: "ADD",
    1: "AVERAGE_POOL_2D",
    2: "CONCATENATION",
    3: "CONV_2D",
    4: "DEPTHWISE_CONV_2D",
    5: "DEPTH_TO_SPACE",
    6: "DEQUANTIZE",
    7: "EMBEDDING_LOOKUP",
    8: "FLOOR",
    9: "FULLY_CONNECTED",
    10: "HASHTABLE_LOOKUP",
    11: "L2_NORMALIZATION",
    12: "L2_POOL_2D",
    13: "LOCAL_RESPONSE_NORMALIZATION",
    14: "LOGISTIC",
    15: "LSH_PROJECTION",
    16: "LSTM",
    17: "MAX_POOL_2D",
    18: "MUL",
    19: "RELU",
    20: "RELU_N1_TO_1",
    21: "RELU6",
    22: "RESHAPE",
    23: "RESIZE_BILINEAR",
    24: "RNN",
    25: "SOFTMAX",
    26: "SPACE_TO_DEPTH",
    27: "SVDF",
    28: "TANH",
    29: "CONCAT_EMBEDDINGS",
    30: "SKIP_GRAM",
    31: "CALL",
    32: "CUSTOM",
    33: "EMBEDDING_LOOKUP_SPARSE",
    34: "PAD",
    35: "UNIDIRECTIONAL_SEQUENCE_RNN",
    36: "GATHER",
    37: "BATCH_TO_SPACE_ND",
    38: "SPACE_TO_BATCH_ND",
    39: "TRANSPOSE",
    40: "MEAN",
    41: "SUB",
    42: "DIV",
    43: "SQUEEZE",
    44: "UNIDIRECTIONAL_SEQUENCE_LSTM",
    45: "STRIDED_SLICE",
    46: "BIDIRECTIONAL_SEQUENCE_RNN",
    47: "EXP",
    48: "TOPK_V2",
    49: "SPLIT",
    50: "LOG_SOFTMAX",
    51: "DELEGATE",
    52: "BIDIRECTIONAL_SEQUENCE_LSTM",
    53: "CAST",
    54: "PRELU",
    55: "MAXIMUM",
    56: "ARG_MAX",
    57: "MINIMUM",
    58: "LESS",
    59: "NEG",
    60: "PADV2",
    61: "GREATER",
    62: "GREATER_EQUAL",
    63: "LESS_EQUAL",
    64: "SELECT",
    65: "SLICE",
    66: "SIN",
    67: "TRANSPOSE_CONV",
    68: "SPARSE_TO_DENSE",
    69: "TILE",
    70: "EXPAND_DIMS",
    71: "EQUAL",
    72: "NOT_EQUAL",
    73: "LOG",
    74: "SUM",
    75: "SQRT",
    76: "RSQRT",
    77: "SHAPE",
    78: "POW",
    79: "ARG_MIN",
    80: "FAKE_QUANT",
    81: "REDUCE_PROD",
    82: "REDUCE_MAX",
    83: "PACK",
    84: "LOGICAL_OR",
    85: "ONE_HOT",
    86: "LOGICAL_AND",
    87: "LOGICAL_NOT",
    88: "UNPACK",
    89: "REDUCE_MIN",
    90: "FLOOR_DIV",
    91: "REDUCE_ANY",
    92: "SQUARE",
    93: "ZEROS_LIKE",
    94: "FILL",
    95: "FLOOR_MOD",
    96: "RANGE",
    97: "RESIZE_NEAREST_NEIGHBOR",
    98: "LEAKY_RELU",
    99: "SQUARED_DIFFERENCE",
    100: "MIRROR_PAD",
    101: "ABS",
    102: "SPLIT_V",
    103: "UNIQUE",
    104: "CEIL",
    105: "REVERSE_V2",
    106: "ADD_N",
    107: "GATHER_ND",
    108: "COS",
    109: "WHERE",
    110: "RANK",
    111: "ELU",
    112: "REVERSE_SEQUENCE",
    113: "MATRIX_DIAG",
    114: "QUANTIZE",
    115: "MATRIX_SET_DIAG",
    116: "ROUND",
    117: "HARD_SWISH",
    118: "IF",
    119: "WHILE",
    120: "NON_MAX_SUPPRESSION_V4",
    121: "NON_MAX_SUPPRESSION_V5",
    122: "SCATTER_ND",
    123: "SELECT_V2",
    124: "DENSIFY",
    125: "SEGMENT_SUM",
    126: "BATCH_MATMUL",
    127: "PLACEHOLDER_FOR_GREATER_OP_CODES",
    128: "CUMSUM",
    129: "CALL_ONCE",
    130: "BROADCAST_TO",
    131: "RFFT2D",
    132: "CONV_3D",
    133: "IMAG",
    134: "REAL",
    135: "COMPLEX_ABS",
    136: "HASHTABLE",
    137: "HASHTABLE_FIND",
    138: "HASHTABLE_IMPORT",
    139: "HASHTABLE_SIZE",
    140: "REDUCE_ALL",
    141: "CONV_3D_TRANSPOSE",
    142: "VAR_HANDLE",
    143: "READ_VARIABLE",
    144: "ASSIGN_VARIABLE",
    145: "BROADCAST_ARGS",
    146: "RANDOM_STANDARD_NORMAL",
    147: "BUCKETIZE",
    148: "RANDOM_UNIFORM",
    149: "MULTINOMIAL",
    150: "GELU",
    151: "DYNAMIC_UPDATE_SLICE",
    152: "RELU_0_TO_1",
    153: "UNSORTED_SEGMENT_PROD",
    154: "UNSORTED_SEGMENT_MAX",
    155: "UNSORTED_SEGMENT_SUM",
    156: "ATAN2",
    157: "UNSORTED_SEGMENT_MIN",
    158: "SIGN",
    159: "BITCAST",
    160: "BITWISE_XOR",
    161: "RIGHT_SHIFT",
    162: "STABLEHLO_LOGISTIC",
    163: "STABLEHLO_ADD",
    164: "STABLEHLO_DIVIDE",
    165: "STABLEHLO_MULTIPLY",
    166: "STABLEHLO_MAXIMUM",
    167: "STABLEHLO_RESHAPE",
    168: "STABLEHLO_CLAMP",
    169: "STABLEHLO_CONCATENATE",
    170: "STABLEHLO_BROADCAST_IN_DIM",
    171: "STABLEHLO_CONVOLUTION",
    172: "STABLEHLO_SLICE",
    173: "STABLEHLO_CUSTOM_CALL",
    174: "STABLEHLO_REDUCE",
    175: "STABLEHLO_ABS",
    176: "STABLEHLO_AND",
    177: "STABLEHLO_COSINE",
    178: "STABLEHLO_EXPONENTIAL",
    179: "STABLEHLO_FLOOR",
    180: "STABLEHLO_LOG",
    181: "STABLEHLO_MINIMUM",
    182: "STABLEHLO_NEGATE",
    183: "STABLEHLO_OR",
    184: "STABLEHLO_POWER",
    185: "STABLEHLO_REMAINDER",
    186: "STABLEHLO_RSQRT",
    187: "STABLEHLO_SELECT",
    188: "STABLEHLO_SUBTRACT",
    189: "STABLEHLO_TANH",
    190: "STABLEHLO_SCATTER",
    191: "STABLEHLO_COMPARE",
    192: "STABLEHLO_CONVERT",
    193: "STABLEHLO_DYNAMIC_SLICE",
    194: "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    195: "STABLEHLO_PAD",
    196: "STABLEHLO_IOTA",
    197: "STABLEHLO_DOT_GENERAL",
    198: "STABLEHLO_REDUCE_WINDOW",
    199: "STABLEHLO_SORT",
    200: "STABLEHLO_WHILE",
    201: "STABLEHLO_GATHER",
    202: "STABLEHLO_TRANSPOSE",
    203: "DILATE",
    204: "STABLEHLO_RNG_BIT_GENERATOR",
    205: "REDUCE_WINDOW",
    206: "STABLEHLO_COMPOSITE",
    207: "STABLEHLO_SHIFT_LEFT",
    208: "STABLEHLO_CBRT",
    209: "STABLEHLO_CASE",
}
# fmt: on

# Resolver methods that exist in the header but that this plugin does not offer:
# Ethos-U needs the NPU driver and a Vela-compiled model.
EXCLUDED_METHODS: Final[frozenset[str]] = frozenset({"AddEthosU"})

# In a .tflite file an OperatorCode carries `deprecated_builtin_code` (int8, 127 means
# "look at builtin_code") and `builtin_code` (int32); TFLM takes the larger of both.
PLACEHOLDER_FOR_GREATER_OP_CODES: Final = 127


def effective_builtin_code(deprecated_builtin_code: int, builtin_code: int) -> int:
    """The op code TFLM uses for an OperatorCode (``GetBuiltinCode`` in schema_utils.cc)."""
    return max(deprecated_builtin_code, builtin_code)


def builtin_name(code: int) -> str:
    """Schema name of a builtin code; ``BUILTIN_<code>`` when the schema does not know it."""
    return BUILTIN_CODES.get(code, f"BUILTIN_{code}")


def lookup(name: str) -> Optional[Op]:
    """The builtin op of this schema name or the custom op of this custom code, else None."""
    return BUILTIN_OPS.get(name) or CUSTOM_OPS.get(name)


def unsupported(names: Iterable[str]) -> list[str]:
    """The names (in input order, without repeats) TFLM has no kernel for."""
    out: list[str] = []
    for name in names:
        if lookup(name) is None and name not in out:
            out.append(name)
    return out


def sources_for(names: Iterable[str]) -> list[str]:
    """Kernel sources (relative to the TFLM root) the given ops need, without repeats."""
    out: list[str] = []
    for name in names:
        op = lookup(name)
        if op is None:
            raise KeyError(name)
        for src in op.sources:
            if src not in out:
                out.append(src)
    return out


_METHOD_RE = re.compile(r"TfLiteStatus (Add\w+)\((.*?)\n  \}", re.S)
_BUILTIN_RE = re.compile(r"BuiltinOperator_(\w+)")
_CUSTOM_RE = re.compile(r'AddCustom\(\s*"(\w+)"')
_REGISTER_RE = re.compile(r"((?:tflite::)?(?:tflm_signal::)?Register_\w+)\(\)")


def _qualified(registration: str) -> str:
    if registration.startswith("tflite::"):
        return registration
    return "tflite::" + registration


def check_against_header(header_text: str) -> list[str]:
    """Differences between this table and TFLM's ``micro_mutable_op_resolver.h``.

    An empty list means every ``Add*`` method of the header is in the table with the
    same op name and registration, and the table holds no method the header lacks.
    """
    problems: list[str] = []
    seen: set[str] = set()
    by_method: dict[str, Op] = {op.method: op for op in BUILTIN_OPS.values()}
    by_method.update({op.method: op for op in CUSTOM_OPS.values()})
    for match in _METHOD_RE.finditer(header_text):
        method, body = match.group(1), match.group(2)
        if method in ("AddBuiltin", "AddCustom") or method in EXCLUDED_METHODS:
            continue
        seen.add(method)
        op = by_method.get(method)
        builtin = _BUILTIN_RE.search(body)
        custom = _CUSTOM_RE.search(body)
        name = builtin.group(1) if builtin else custom.group(1) if custom else None
        if op is None:
            problems.append(f"{method} ({name}) is in the header but not in the op table")
            continue
        if name != op.name:
            problems.append(f"{method}: header registers {name}, table says {op.name}")
        reg = _REGISTER_RE.search(body)
        if reg and _qualified(reg.group(1)) + "()" != op.registration:
            problems.append(
                f"{method}: header uses {_qualified(reg.group(1))}(), table says {op.registration}"
            )
    for method in sorted(set(by_method) - seen):
        problems.append(f"{method} is in the op table but not in the header")
    return problems
