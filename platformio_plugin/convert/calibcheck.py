"""Calibration / validation data rules (standard library only, no numpy).

The worker measures the data (shape, dtype kind, count of NaN/Inf) and asks
these functions whether it fits the model. They run before TensorFlow sees a
single sample: a wrongly laid out representative dataset crashes TensorFlow's
calibrator with SIGFPE instead of an error.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..errors import CalibrationDataError

NUMERIC_KINDS = {"f": "float", "i": "int", "u": "unsigned int", "b": "bool"}


def fmt_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def channels_last(shape: Sequence[int]) -> tuple[int, ...]:
    """NCHW-style -> NHWC-style (rank 3..5); other ranks unchanged."""
    s = tuple(shape)
    if 3 <= len(s) <= 5:
        return (s[0], *s[2:], s[1])
    return s


def sample_shape_of(
    source: str, found: Sequence[int], expected: Sequence[int], *, single_ok: bool = True
) -> int:
    """Number of samples in data of shape ``found`` for a model input ``expected``.

    ``expected`` includes the batch dimension (which must be 1). Accepted:
    ``(N, *expected[1:])``, ``(N, *expected)`` and (if ``single_ok``) one
    sample ``expected[1:]``. Anything else is a CalibrationDataError that
    names the file, the shape found and the shape expected.
    """
    found = tuple(int(d) for d in found)
    exp = tuple(int(d) for d in expected)
    per = exp[1:]
    want = f"(N, {', '.join(str(d) for d in per)})" if per else "(N,)"
    if len(found) == len(per) + 1 and found[1:] == per:
        return found[0]
    if len(found) == len(exp) + 1 and found[1:] == exp:
        return found[0]
    if single_ok and found == per and len(found) > 1:
        return 1
    hint = f"Save the samples as an array of shape {want} in the model's own input layout."
    if len(exp) >= 3 and len(found) == len(exp):
        nhwc = channels_last(exp)[1:]
        if found[1:] == nhwc and nhwc != per:
            hint = (
                f"The data looks channels-last {fmt_shape(found)}; the model's input is "
                f"{fmt_shape(exp)}. Transpose it, e.g. x.transpose(0, {len(exp) - 1}, "
                f"{', '.join(str(i) for i in range(1, len(exp) - 1))})."
            )
    if len(found) != len(per) + 1:
        what = f"rank {len(found)} {fmt_shape(found)}, expected rank {len(per) + 1} {want}"
    else:
        what = f"shape {fmt_shape(found)}, expected {want}"
    raise CalibrationDataError(f"{source}: calibration data has {what}.", hint)


def check_samples(
    source: str,
    found: Sequence[int],
    dtype_kind: str,
    dtype_name: str,
    nonfinite: int,
    expected: Sequence[int],
    min_samples: int,
    *,
    role: str = "calibration",
) -> int:
    """Validate measured data against the model input; returns the sample count."""
    if dtype_kind not in NUMERIC_KINDS:
        raise CalibrationDataError(
            f"{source}: {role} data has non-numeric dtype {dtype_name}.",
            "Save float32 samples (np.save with a numeric array).",
        )
    count = sample_shape_of(source, found, expected)
    if nonfinite:
        raise CalibrationDataError(
            f"{source}: {role} data contains {nonfinite} NaN/Inf value(s).",
            "Remove or fix the non-finite samples; quantization ranges need finite values.",
        )
    if count < min_samples:
        raise CalibrationDataError(
            f"{source}: {role} data has {count} sample(s); at least {min_samples} are needed.",
            "Provide 100-500 real input samples, or lower the minimum "
            "(custom_tinyml_min_calibration_samples).",
        )
    return count


def check_labels(source: str, n_samples: int, label_shape: Optional[Sequence[int]]) -> None:
    if label_shape is None:
        return
    shape = tuple(label_shape)
    if len(shape) != 1 or shape[0] != n_samples:
        raise CalibrationDataError(
            f"{source}: labels y have shape {fmt_shape(shape)}, expected ({n_samples},) "
            "(one class index per sample in x).",
            "Save the validation set as np.savez(path, x=samples, y=labels).",
        )
