"""Refusals: each a clear one-message error, exit 1, no traceback, nothing left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.convert import DATA, run_cli

pytestmark = pytest.mark.convert

CNN = ("--model-class", DATA / "small_cnn.py:SmallCNN", "--input-shape", "1,1,8,8")


def _refused(tmp_path: Path, *args: Any) -> str:
    out = tmp_path / "out"
    proc = run_cli("convert", *args, "--out", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.startswith("Error: "), proc.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [], list(tmp_path.iterdir())
    return proc.stderr


def test_pickle_refused_without_trust_and_payload_never_runs(
    tmp_path: Path, convert_data: Path
) -> None:
    marker = convert_data / "pickle_payload_ran"
    assert not marker.exists()
    err = _refused(tmp_path, convert_data / "evil.pt")
    assert "pickled model" in err and "--trust-pickle" in err
    assert not marker.exists(), "unpickling code ran although trust was not given"


def test_state_dict_without_class(tmp_path: Path, convert_data: Path) -> None:
    err = _refused(
        tmp_path, convert_data / "cnn.pth", "--calibration", convert_data / "cnn_calib.npy"
    )
    assert "is a state_dict" in err and "model_class" in err


def test_state_dict_with_wrong_class(
    tmp_path: Path, convert_data: Path, shared_models: Path
) -> None:
    err = _refused(
        tmp_path,
        shared_models / "pth_lenet5_mnist" / "mnist_cnn.pt",
        *CNN,
        "--calibration",
        convert_data / "cnn_calib.npy",
    )
    assert "does not match" in err and "convnet.c1.weight" in err


def test_float_tflite_without_calibration(tmp_path: Path, shared_models: Path) -> None:
    err = _refused(tmp_path, shared_models / "tflm_hello_world" / "hello_world_float.tflite")
    assert "hello_world_float.tflite is a float model" in err, err
    assert "no calibration data" in err and "custom_tinyml_calibration" in err, err


def test_float_model_without_calibration(tmp_path: Path, shared_models: Path) -> None:
    err = _refused(tmp_path, shared_models / "onnx_mnist8_modelzoo" / "mnist-8.onnx")
    assert "no calibration data" in err


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("bad_nan.npy", "NaN/Inf"),
        ("bad_nhwc.npy", "Transpose it"),
        ("bad_few.npy", "at least 10"),
        ("bad_text.npy", "non-numeric"),
        ("empty_dir", "empty folder"),
    ],
)
def test_bad_calibration(tmp_path: Path, convert_data: Path, name: str, expect: str) -> None:
    err = _refused(tmp_path, convert_data / "cnn.pth", *CNN, "--calibration", convert_data / name)
    assert str(convert_data / name) in err and expect in err


def test_unsupported_ops_all_listed(tmp_path: Path, convert_data: Path) -> None:
    err = _refused(
        tmp_path, convert_data / "tiles.onnx", "--calibration", convert_data / "tiles_calib.npy"
    )
    assert "TFLite Micro does not support" in err
    assert err.count("TILE (node ") == 2


@pytest.mark.parametrize(
    ("name", "content", "expect"),
    [
        ("empty.pth", b"", "empty (0 bytes)"),
        ("garbage.pt", b"not a torch file at all", "not a PyTorch file"),
        ("garbage.onnx", b"\x08\x07\x12garbage" * 10, "not a readable ONNX model"),
        ("garbage.tflite", b"\x00" * 64, "not a TFLite flatbuffer"),
        ("model.safetensors", b"{}", "unsupported model format"),
    ],
)
def test_corrupt_files(tmp_path: Path, name: str, content: bytes, expect: str) -> None:
    src = tmp_path.parent / f"{tmp_path.name}-{name}"
    src.write_bytes(content)
    err = _refused(tmp_path, src)
    assert expect in err
