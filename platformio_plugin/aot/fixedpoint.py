"""gemmlowp's int32 fixed-point functions (fixedpoint/fixedpoint.h) as TFLite Micro's int8
LOGISTIC and TANH kernels call them, in exact integer arithmetic.

A value is the raw int32 of a ``FixedPoint<int32_t, integer_bits>``; each function names the
gemmlowp function it reproduces. Sums wrap to int32 as the C++ code's do on the cores; the
functions are only called on the whole int8 input range at build time (256 values a node),
so the generated code is a table lookup with the interpreter's exact bytes.
"""

from __future__ import annotations

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def wrap(value: int) -> int:
    """``value`` as a C++ int32 holds it after a wrapping sum."""
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


def _c_div(numerator: int, denominator: int) -> int:
    """C++ integer division: truncates toward zero."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def saturating_rounding_doubling_high_mul(a: int, b: int) -> int:
    """``SaturatingRoundingDoublingHighMul`` (VQRDMULH)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    product = a * b
    nudge = (1 << 30) if product >= 0 else 1 - (1 << 30)
    return wrap(_c_div(product + nudge, 1 << 31))


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """``RoundingDivideByPOT``: a rounding arithmetic right shift (halves away from zero)."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def saturating_rounding_multiply_by_pot(x: int, exponent: int) -> int:
    """``SaturatingRoundingMultiplyByPOT<exponent>`` on an int32."""
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return wrap(x << exponent)


def rescale(x: int, bits_from: int, bits_to: int) -> int:
    """``Rescale<bits_to>`` of a value with ``bits_from`` integer bits."""
    return saturating_rounding_multiply_by_pot(x, bits_from - bits_to)


def one(integer_bits: int) -> int:
    """``FixedPoint<int32_t, integer_bits>::One()``."""
    return INT32_MAX if integer_bits == 0 else 1 << (31 - integer_bits)


def constant_pot(integer_bits: int, exponent: int) -> int:
    """``ConstantPOT<exponent>``: 2**exponent."""
    return 1 << (31 - integer_bits + exponent)


def mul(a: int, b: int) -> int:
    """FixedPoint ``operator*``: the integer bits of the two add up."""
    return saturating_rounding_doubling_high_mul(a, b)


def rounding_half_sum(a: int, b: int) -> int:
    total = a + b
    return _c_div(total + (1 if total >= 0 else -1), 2)


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: int) -> int:
    """exp(a) for a in [-1/4, 0), 0 integer bits in and out."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = wrap(a + constant_pot(0, -3))
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    x4_over_24_plus_x3_over_6_plus_x2_over_2 = saturating_rounding_multiply_by_pot(
        wrap(mul(wrap(x4_over_4 + x3), constant_1_over_3) + x2), -1
    )
    return wrap(
        constant_term + mul(constant_term, wrap(x + x4_over_24_plus_x3_over_6_plus_x2_over_2))
    )


# exp(-2**exponent) in Q0.31, for the barrel shifter of exp_on_negative_values
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))  # fmt: skip


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """exp(a) for a <= 0 with ``integer_bits``; the result has 0 integer bits."""
    fractional_bits = 31 - integer_bits
    one_quarter = constant_pot(integer_bits, -2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = wrap((a & mask) - one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0)
    )
    remainder = wrap(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            shift = fractional_bits + exponent
            if remainder & (1 << shift):
                result = mul(result, multiplier)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        if a < clamp:
            result = 0
    return one(0) if a == 0 else result


def _newton_reciprocal_of_half_denominator(a: int) -> tuple[int, int]:
    """The shared Newton-Raphson loop of the two x-in-(0, 1) divisions: (x, one) with 2
    integer bits."""
    half_denominator = rounding_half_sum(a, one(0))
    constant_48_over_17 = 1515870810
    constant_neg_32_over_17 = -1010580540
    x = wrap(constant_48_over_17 + mul(half_denominator, constant_neg_32_over_17))
    one_f2 = one(2)
    for _ in range(3):
        half_denominator_times_x = mul(half_denominator, x)
        one_minus = wrap(one_f2 - half_denominator_times_x)
        x = wrap(x + rescale(mul(x, one_minus), 4, 2))
    return x, one_f2


def one_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    x, _ = _newton_reciprocal_of_half_denominator(a)
    # ExactMulByPot<-1> keeps the raw value with 1 integer bit; Rescale<0> from there
    return rescale(x, 1, 0)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    x, one_f2 = _newton_reciprocal_of_half_denominator(a)
    return rescale(wrap(x - one_f2), 2, 0)


def logistic(a: int, integer_bits: int) -> int:
    """``gemmlowp::logistic``: Q0.31 result."""
    positive = a > 0
    abs_input = a if positive else wrap(-a)
    if_positive = one_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(wrap(-abs_input), integer_bits)
    )
    if_negative = wrap(one(0) - if_positive)
    if a == 0:
        return 1 << 30
    return if_positive if positive else if_negative


def tanh(a: int, integer_bits: int) -> int:
    """``gemmlowp::tanh``: Q0.31 result."""
    negative = a < 0
    n = a if negative else wrap(-a)
    # neg_tanh_on_negative_values: ExactMulByPot<1> adds an integer bit to the same raw value
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    if a == 0:
        return 0
    return wrap(-t) if negative else t


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLM's ``MultiplyByQuantizedMultiplier`` (int32, double rounding: TFLM's default)."""
    left_shift = shift if shift > 0 else 0
    right_shift = 0 if shift > 0 else -shift
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(wrap(x * (1 << left_shift)), multiplier),
        right_shift,
    )
