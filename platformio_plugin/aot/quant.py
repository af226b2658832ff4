"""Fixed-point parameters exactly as TFLite Micro computes them in its kernels' Prepare.

Each function names the TFLM function it reproduces (tensorflow/lite/kernels/kernel_util.cc,
kernels/internal/quantization_util.cc, kernels/padding.h). TFLM computes in C++ doubles from
the model's float32 scales; Python floats are IEEE doubles, so the same operations in the
same order give the same bits. Float32 steps (``Quantize``) are rounded to float32 here.
"""

from __future__ import annotations

import math
import struct

INT8_MIN = -128
INT8_MAX = 127

# schema.fbs ActivationFunctionType
ACT_NONE = 0
ACT_RELU = 1
ACT_RELU_N1_TO_1 = 2
ACT_RELU6 = 3

# schema.fbs Padding
PADDING_SAME = 0
PADDING_VALID = 1


def f32(value: float) -> float:
    """``value`` rounded to the nearest float32, as a C++ ``float`` holds it."""
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


def tflite_round(value: float) -> float:
    """``TfLiteRound`` (``std::round``): halves away from zero."""
    return math.copysign(math.floor(abs(value) + 0.5), value)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """``QuantizeMultiplier``: (Q31 significand, shift) of a double, without
    TFLITE_SINGLE_ROUNDING or TFLITE_EMULATE_FLOAT (TFLM's defaults)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(tflite_round(q * (1 << 31)))
    if q_fixed > (1 << 31):
        raise ValueError(f"multiplier {real!r} does not fit Q31")
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def per_channel_multipliers(
    input_scale: float, filter_scales: tuple[float, ...], output_scale: float, channels: int
) -> tuple[list[int], list[int]]:
    """``PopulateConvolutionQuantizationParams`` (and FULLY_CONNECTED's per-channel branch):
    per output channel ``double(input_scale) * double(filter_scale) / double(output_scale)``;
    a single filter scale is broadcast."""
    multipliers, shifts = [], []
    for channel in range(channels):
        scale = filter_scales[channel] if len(filter_scales) > 1 else filter_scales[0]
        effective = input_scale * scale / output_scale
        multiplier, shift = quantize_multiplier(effective)
        multipliers.append(multiplier)
        shifts.append(shift)
    return multipliers, shifts


def per_tensor_multiplier(
    input_scale: float, filter_scale: float, output_scale: float
) -> tuple[int, int]:
    """``GetQuantizedConvolutionMultipler`` then ``QuantizeMultiplier``:
    ``(double(input_scale) * double(filter_scale)) / double(output_scale)``."""
    return quantize_multiplier((input_scale * filter_scale) / output_scale)


def quantize(scale: float, zero_point: int, value: float) -> int:
    """``Quantize`` of kernel_util.cc: ``zero_point + int(TfLiteRound(float(f / scale)))``."""
    return zero_point + int(tflite_round(f32(f32(value) / scale)))


def activation_range(activation: int, scale: float, zero_point: int) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized`` for an int8 output."""
    low, high = INT8_MIN, INT8_MAX
    if activation == ACT_RELU:
        return max(low, quantize(scale, zero_point, 0.0)), high
    if activation == ACT_RELU6:
        return (
            max(low, quantize(scale, zero_point, 0.0)),
            min(high, quantize(scale, zero_point, 6.0)),
        )
    if activation == ACT_RELU_N1_TO_1:
        return (
            max(low, quantize(scale, zero_point, -1.0)),
            min(high, quantize(scale, zero_point, 1.0)),
        )
    if activation == ACT_NONE:
        return low, high
    raise ValueError(f"fused activation {activation} has no int8 range")


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """``CalculateSoftmaxParams`` for int8 in and out: (input_multiplier, input_left_shift,
    diff_min) from ``PreprocessSoftmaxScaling`` and ``CalculateInputRadius`` with 5 integer
    bits."""
    integer_bits = 5
    max_real = float((1 << 31) - 1)
    real = min(beta * input_scale * (1 << (31 - integer_bits)), max_real)
    if not real > 1.0:
        raise ValueError("softmax multiplier must be greater than one")
    multiplier, left_shift = quantize_multiplier(real)
    radius = 1.0 * ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << left_shift)
    diff_min = int(-1.0 * math.floor(radius))
    return multiplier, left_shift, diff_min


def effective_filter_size(filter_size: int, dilation: int) -> int:
    return (filter_size - 1) * dilation + 1


def output_size(padding: int, image: int, filter_size: int, stride: int, dilation: int) -> int:
    """``ComputeOutSize`` (padding.h)."""
    effective = effective_filter_size(filter_size, dilation)
    if padding == PADDING_SAME:
        return (image + stride - 1) // stride
    if padding == PADDING_VALID:
        return (image + stride - effective) // stride
    raise ValueError(f"padding {padding}")


def padding(stride: int, dilation: int, image: int, filter_size: int, out: int) -> int:
    """``ComputePaddingWithOffset``'s padding (the offset is not passed to CMSIS-NN)."""
    total = (out - 1) * stride + effective_filter_size(filter_size, dilation) - image
    return max(total, 0) // 2
