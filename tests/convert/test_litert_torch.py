"""The second PyTorch route: the digits example's .pth through LiteRT Torch (its own
environment, made by the first of these tests on a fresh machine), and `auto` falling back to
it when the onnx2tf route cannot export a model. Kept to two tests: the LiteRT Torch
environment is a one-time ~2 GB install. A third, in the converter environment only: the
quantizer's refusal of a model it left computing in float."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.convert import REPO, convert_json, run_cli, run_converter_script

from platformio_plugin.analysis import layers
from platformio_plugin.analysis.tflite_reader import parse_tflite

pytestmark = pytest.mark.convert

MODELS = REPO / "examples" / "mnist-pytorch" / "models"
DIGITS = (
    MODELS / "digits_cnn.pth",
    "--input-shape",
    "1,1,8,8",
    "--calibration",
    MODELS / "calibration.npy",
    "--validation",
    MODELS / "digits_cnn.validation.npz",
)
LITERT_ROUTE = "PyTorch -> float TFLite (LiteRT Torch) -> int8"
# The digits CNN with a ShuffleNet-style channel shuffle after its first convolution, done
# twice (groups 2 then 4: the identity on 8 channels), so the trained weights keep their
# accuracy. PyTorch's ONNX exporter has no form for aten::channel_shuffle; LiteRT Torch has.
SHUFFLED_CLASS = """

import torch.nn.functional as F


class ShuffledDigitsCNN(DigitsCNN):
    def forward(self, x):
        x = F.channel_shuffle(F.channel_shuffle(self.features[:3](x), 2), 4)
        return self.head(self.features[3:](x).flatten(1))
"""

# The int8 model in TFLM's interpreter on the example's held-out digits, fed as the device
# is (NCHW: LiteRT Torch keeps the model's layout), against the labels.
ACCURACY = """
import json, sys, numpy as np
from platformio_plugin.convert.stages.checks import quantize, tflm_run
model = open(sys.argv[1], "rb").read(); io = json.loads(sys.argv[3])
data = np.load(sys.argv[2])
q = quantize(data["x"], io["input"]["scale"], io["input"]["zero_point"])
out = tflm_run(model, q, io["input"]["shape"]).reshape(len(q), -1)
print(json.dumps(100.0 * float(np.mean(out.argmax(axis=1) == data["y"]))))
"""


def _accurate(result: dict[str, Any], converter_python: Path) -> None:
    report = result["report"]
    assert report["accuracy_float"] >= 85.0, report
    assert report["accuracy_int8"] >= report["accuracy_float"] - 3.0, report
    measured = run_converter_script(
        converter_python,
        ACCURACY,
        result["tflite"],
        MODELS / "digits_cnn.validation.npz",
        json.dumps(report["io"]),
    )
    assert abs(measured - report["accuracy_int8"]) < 0.01, (measured, report["accuracy_int8"])


def test_digits_through_litert_torch(tmp_path: Path, converter_python: Path) -> None:
    args = (*DIGITS, "--model-class", MODELS / "digits_cnn.py:DigitsCNN")
    first = convert_json(*args, "--frontend", "litert-torch", "--out", tmp_path / "a")
    second = convert_json(*args, "--frontend", "litert-torch", "--out", tmp_path / "b")
    assert Path(first["tflite"]).read_bytes() == Path(second["tflite"]).read_bytes()
    report = first["report"]
    assert (report["frontend"], report["route"]) == ("litert-torch", LITERT_ROUTE)
    assert "frontend_fallback" not in report
    assert "export_litert_torch" in report["stages"]
    # The model's own layout on the device: LiteRT Torch transposes inside the model.
    assert (first["source_layout"], first["input_layout"]) == ("NCHW", "NCHW")
    assert report["io"]["input"]["shape"] == [1, 1, 8, 8]
    # Full int8: every op on int8 tensors, no float op between a DEQUANTIZE and a QUANTIZE.
    model = parse_tflite(Path(first["tflite"]).read_bytes())
    ops = [layers.op_name(op) for op in model.operators]
    assert {"CONV_2D", "FULLY_CONNECTED"} <= set(ops) and "DEQUANTIZE" not in ops, ops
    assert report["tflite_bytes"] < 8000, report["tflite_bytes"]
    _accurate(first, converter_python)


def test_auto_falls_back_when_the_onnx_route_cannot_export(
    tmp_path: Path, converter_python: Path
) -> None:
    digits_class = (MODELS / "digits_cnn.py").read_text()
    (tmp_path / "shuffled.py").write_text(digits_class + SHUFFLED_CLASS)
    args = (*DIGITS, "--model-class", tmp_path / "shuffled.py:ShuffledDigitsCNN")
    refused = run_cli("convert", *args, "--frontend", "onnx2tf", "--out", tmp_path / "o")
    assert refused.returncode == 1
    assert "digits_cnn.pth: PyTorch -> ONNX export failed" in refused.stderr, refused.stderr
    assert "aten::channel_shuffle" in refused.stderr and "--frontend litert-torch" in refused.stderr

    proc = run_cli("convert", *args, "--out", tmp_path / "a", "--json")  # frontend auto
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "TinyML: the onnx2tf route failed (digits_cnn.pth: PyTorch -> ONNX export failed: "
        in proc.stdout
    )
    assert "-> trying litert-torch" in proc.stdout
    assert "PyTorch -> float TFLite (LiteRT Torch)" in proc.stdout
    result = json.loads(proc.stdout[proc.stdout.index("\n{") + 1 :])
    report = result["report"]
    assert report["frontend"] == "litert-torch"
    assert report["frontend_fallback"].startswith("onnx2tf failed: digits_cnn.pth: PyTorch")
    _accurate(result, converter_python)


# LiteRT's converter marks a float .tflite's constants to stay float (metadata
# keep_stablehlo_constant); TensorFlow's quantizer then leaves every weighted op in float. The
# quantize step drops the mark; a model quantized with it kept is refused, naming the ops.
MARKED = """
import json, sys, numpy as np, flatbuffers, tensorflow as tf
from tensorflow.lite.python import convert
from tensorflow.lite.python.optimize import calibrator
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb
from platformio_plugin.errors import ConversionError
from platformio_plugin.convert.stages import float_tflite
from platformio_plugin.convert.stages.tflite_rewrite import drop_float_constant_marker
model = fb.ModelT.InitFromPackedBuf(bytearray(open(sys.argv[1], "rb").read()), 0)
marker = fb.MetadataT(); marker.name = b"keep_stablehlo_constant"
model.buffers.append(fb.BufferT()); marker.buffer = len(model.buffers) - 1
model.metadata = [*(model.metadata or []), marker]
builder = flatbuffers.Builder(1 << 20); builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
marked = bytes(builder.Output())
samples = np.load(sys.argv[2])[:20].astype(np.float32)
calibrated = calibrator.Calibrator(marked).calibrate(lambda: ([s[None]] for s in samples))
hybrid = convert.mlir_quantize(calibrated, input_data_type=tf.int8, output_data_type=tf.int8)
try:
    float_tflite._refuse_float_ops(bytes(hybrid), "ad01_fp32.tflite")
    refused = ""
except ConversionError as exc:
    refused = exc.render()
print(json.dumps([refused, drop_float_constant_marker(marked)[1], len(hybrid)]))
"""


def test_float_constant_mark_is_dropped_and_float_ops_refused(
    tmp_path: Path, converter_python: Path, shared_models: Path
) -> None:
    """(The digits test above shows the model made without the mark: full int8.)"""
    raw = shared_models / "mlperf_ad_autoencoder" / "normal_id_01_00000000_hist_librosa.bin"
    samples = tmp_path / "toycar.npy"
    np.save(samples, np.fromfile(raw, dtype="<f4").reshape(40, 640))
    fp32 = shared_models / "mlperf_ad_autoencoder" / "ad01_fp32.tflite"
    refused, dropped, hybrid_bytes = run_converter_script(converter_python, MARKED, fp32, samples)
    assert dropped
    assert refused.startswith("TFLite's quantizer left ad01_fp32.tflite computing in float: ")
    assert "FULLY_CONNECTED (node " in refused and "custom_tinyml_frontend" in refused
    assert hybrid_bytes > 0.9 * fp32.stat().st_size  # its weights stayed float
