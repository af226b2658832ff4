"""Pure pieces of the converter: calibration rules, error round trip, messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformio_plugin import errors
from platformio_plugin.convert.calibcheck import (
    channels_last,
    check_labels,
    check_samples,
)
from platformio_plugin.convert.conversion import progress_line
from platformio_plugin.convert.environment import (
    converter_dir,
    explain_pip_failure,
    pip_install_command,
)
from platformio_plugin.convert.protocol import error_from_dict, error_to_dict, layouts
from platformio_plugin.options import parse_shape

pytestmark = pytest.mark.unit

EXP = (1, 1, 32, 32)


def test_accepted_shapes() -> None:
    assert check_samples("c.npy", (50, 1, 32, 32), "f", "float32", 0, EXP, 10) == 50
    assert check_samples("c.npy", (12, 1, 1, 32, 32), "f", "float64", 0, EXP, 10) == 12
    assert check_samples("c.npy", (20, 1, 32, 32), "u", "uint8", 0, EXP, 10) == 20


@pytest.mark.parametrize(
    ("shape", "kind", "nonfinite", "expect"),
    [
        ((50, 32, 32, 1), "f", 0, "Transpose it, e.g. x.transpose(0, 3, 1, 2)"),
        ((50, 32, 32), "f", 0, "rank 3 (50, 32, 32), expected rank 4 (N, 1, 32, 32)"),
        ((50, 1, 28, 28), "f", 0, "shape (50, 1, 28, 28), expected (N, 1, 32, 32)"),
        ((50, 1, 32, 32), "U", 0, "non-numeric dtype"),
        ((50, 1, 32, 32), "f", 3, "3 NaN/Inf"),
        ((4, 1, 32, 32), "f", 0, "4 sample(s); at least 10"),
    ],
)
def test_refused_shapes(shape: tuple[int, ...], kind: str, nonfinite: int, expect: str) -> None:
    with pytest.raises(errors.CalibrationDataError) as info:
        check_samples("data/c.npy", shape, kind, "x", nonfinite, EXP, 10)
    assert "data/c.npy" in info.value.render()
    assert expect in info.value.render()


def test_labels_and_shapes() -> None:
    check_labels("v.npz", 5, (5,))
    with pytest.raises(errors.CalibrationDataError):
        check_labels("v.npz", 5, (4,))
    assert parse_shape("1, 1, 32, 32") == EXP
    assert parse_shape("1x3x8x8") == (1, 3, 8, 8)
    with pytest.raises(ValueError):
        parse_shape("1,a")
    assert channels_last(EXP) == (1, 32, 32, 1)
    assert channels_last((1, 784)) == (1, 784)
    assert layouts(4, True) == ("NCHW", "NHWC")
    assert layouts(2, False) == ("NC", "NC")


def test_error_round_trip() -> None:
    for exc in (
        errors.CalibrationDataError("bad data", "fix it"),
        errors.UntrustedModelError("pickle", "trust"),
        errors.AccuracyError("dropped", "more samples"),
    ):
        back = error_from_dict(error_to_dict(exc))
        assert type(back) is type(exc) and back.render() == exc.render()
    ops = errors.UnsupportedOpsError("m.tflite", [("0:a", "TILE"), ("2:b", "TILE")], "replace")
    back = error_from_dict(error_to_dict(ops))
    assert isinstance(back, errors.UnsupportedOpsError)
    assert back.offenders == ops.offenders and back.render() == ops.render()
    unknown = error_from_dict({"kind": "NoSuchError", "message": "m"})
    assert type(unknown) is errors.ConversionError


def test_progress_line() -> None:
    line = progress_line(2, 4, "ONNX -> TensorFlow (onnx2tf)", 6.84)
    assert line.startswith("TinyML: [2/4] ONNX -> TensorFlow (onnx2tf) ...")
    assert line.endswith(" 6.8 s")


def test_pip_failure_names_package(tmp_path: Path) -> None:
    out = (
        "Looking in links: /w\nERROR: Could not find a version that satisfies the requirement "
        "torch==9.9.9 (from versions: none)\nERROR: No matching distribution found for "
        "torch==9.9.9\n"
    )
    assert explain_pip_failure(out) == (
        "torch==9.9.9",
        "ERROR: No matching distribution found for torch==9.9.9",
    )
    cmd = pip_install_command(Path("py"), Path("r.txt"), "/wheels")
    assert cmd[-5:] == ["--no-index", "--find-links", "/wheels", "-r", "r.txt"]
    req = tmp_path / "r.txt"
    req.write_text("numpy==1.26.4\n")
    assert converter_dir(tmp_path, req).name.startswith("converter-")
    assert len(converter_dir(tmp_path, req).name) == len("converter-") + 12


def test_worker_crash_names_step_signal_and_log(tmp_path: Path) -> None:
    from platformio_plugin.convert.runner import run_worker

    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'quantizing...'\nkill -FPE $$\n")
    fake.chmod(0o755)
    with pytest.raises(errors.ProcessError) as info:
        run_worker(fake, {"step": "quantize"}, tmp_path / "work", step="int8 quantization")
    text = info.value.render()
    assert "int8 quantization failed" in text and "SIGFPE" in text
    assert "quantizing..." in text and str(tmp_path / "work" / "quantize.log") in text


def test_worker_typed_error_is_raised_again(tmp_path: Path) -> None:
    from platformio_plugin.convert.runner import run_worker

    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        'printf \'{"error": {"kind": "CalibrationDataError", "message": "c.npy: bad", '
        '"hint": "fix"}}\' > "$4"\nexit 3\n'
    )
    fake.chmod(0o755)
    with pytest.raises(errors.CalibrationDataError, match="c.npy: bad"):
        run_worker(fake, {"step": "prepare"}, tmp_path / "work")
