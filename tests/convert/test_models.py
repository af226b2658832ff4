"""End-to-end conversions of real models, each converted twice (byte-identical)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.convert import DATA, convert_json, run_converter_script

pytestmark = pytest.mark.convert


def _twice(tmp_path: Path, *args: Any) -> dict[str, Any]:
    first = convert_json(*args, "--out", tmp_path / "a")
    second = convert_json(*args, "--out", tmp_path / "b")
    a, b = Path(first["tflite"]), Path(second["tflite"])
    assert a.read_bytes() == b.read_bytes(), "conversion is not deterministic"
    assert Path(first["golden"]).read_bytes() == Path(second["golden"]).read_bytes()
    report = first["report"]
    assert report["io"]["input"]["scale"] > 0 and report["io"]["output"]["scale"] > 0
    assert first["arena_bytes_host"] > 0
    golden = json.loads(Path(first["golden"]).read_text())
    assert golden["vectors"] and all(-128 <= v <= 127 for v in golden["vectors"][0]["output"])
    assert sorted(p.name for p in a.parent.iterdir()) == [
        "golden.json",
        "model_int8.tflite",
        "report.json",
    ]
    return first


def _float_checks(result: dict[str, Any], min_accuracy: float) -> None:
    report = result["report"]
    assert report["top1_agreement"] >= 90.0, report
    assert report["accuracy_float"] >= min_accuracy, report
    assert report["accuracy_int8"] >= report["accuracy_float"] - 5.0, report
    for stage in ("prepare", "onnx2tf", "quantize", "checks"):
        assert report["stages"][stage]["seconds"] > 0
        assert report["stages"][stage]["peak_rss_mb"] > 0


def test_lenet_state_dict_legacy_pt(
    tmp_path: Path, convert_data: Path, shared_models: Path
) -> None:
    result = _twice(
        tmp_path,
        shared_models / "pth_lenet5_mnist" / "mnist_cnn.pt",
        "--model-class",
        DATA / "lenet.py:LeNet",
        "--input-shape",
        "1,1,32,32",
        "--calibration",
        convert_data / "lenet_calib.npy",
        "--validation",
        convert_data / "lenet_val.npz",
    )
    assert (result["source_layout"], result["input_layout"]) == ("NCHW", "NHWC")
    assert result["report"]["io"]["input"]["shape"] == [1, 32, 32, 1]
    # Digits drawn at 8x8 and scaled up are not MNIST: the float model gets ~75 %.
    _float_checks(result, 60.0)


def test_onnx_mnist8_matches_reference_sets(
    tmp_path: Path, convert_data: Path, shared_models: Path, converter_python: Path
) -> None:
    folder = shared_models / "onnx_mnist8_modelzoo"
    result = _twice(
        tmp_path,
        folder / "mnist-8.onnx",
        "--calibration",
        convert_data / "mnist28_calib.npy",
        "--validation",
        convert_data / "mnist28_val.npz",
    )
    _float_checks(result, 60.0)
    script = """
import json, sys, numpy as np, onnx
from onnx import numpy_helper
from pathlib import Path
from platformio_plugin.convert.stages.checks import quantize, tflm_run
model = Path(sys.argv[1]).read_bytes(); io = json.loads(sys.argv[3])
agree = []
for d in sorted(Path(sys.argv[2]).glob("test_data_set_*")):
    x = numpy_helper.to_array(onnx.load_tensor(str(d / "input_0.pb")))
    ref = numpy_helper.to_array(onnx.load_tensor(str(d / "output_0.pb")))
    q = quantize(np.moveaxis(x, 1, -1), io["input"]["scale"], io["input"]["zero_point"])
    out = tflm_run(model, q, io["input"]["shape"])
    agree.append(int(out.argmax()) == int(ref.argmax()))
print(json.dumps(agree))
"""
    agree = run_converter_script(
        converter_python, script, result["tflite"], folder, json.dumps(result["report"]["io"])
    )
    assert agree == [True, True, True]


def test_onnx_pytorch_mlp(tmp_path: Path, convert_data: Path, shared_models: Path) -> None:
    result = _twice(
        tmp_path,
        shared_models / "onnx_mnist_pytorch_export" / "pytorch.onnx",
        "--calibration",
        convert_data / "mnist784_calib.npy",
        "--validation",
        convert_data / "mnist784_val.npz",
    )
    assert result["input_layout"] == result["source_layout"]
    _float_checks(result, 30.0)


@pytest.mark.parametrize(
    "path",
    [
        "tflm_hello_world/hello_world_int8.tflite",
        "mlperf_kws_dscnn/kws_ref_model_int8.tflite",
    ],
)
def test_int8_tflite_passthrough(tmp_path: Path, shared_models: Path, path: str) -> None:
    result = _twice(tmp_path, shared_models / path)
    source = (shared_models / path).read_bytes()
    assert Path(result["tflite"]).read_bytes() == source


@pytest.mark.parametrize("name", ["cnn.pth", "cnn.pt", "cnn.pt2"])
def test_small_cnn_trained_on_digits(tmp_path: Path, convert_data: Path, name: str) -> None:
    result = _twice(
        tmp_path,
        convert_data / name,
        "--model-class",
        DATA / "small_cnn.py:SmallCNN",
        "--input-shape",
        "1,1,8,8",
        "--calibration",
        convert_data / "cnn_calib.npy",
        "--validation",
        convert_data / "cnn_val.npz",
        "--max-accuracy-drop",
        "5",
    )
    assert (
        result["report"]["torch_format"]
        == {"cnn.pth": "pickle", "cnn.pt": "torchscript", "cnn.pt2": "exported"}[name]
    )
    _float_checks(result, 80.0)
