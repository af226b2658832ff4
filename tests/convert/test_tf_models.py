"""TensorFlow-origin float models quantized with the user's calibration data: the MLPerf Tiny
anomaly-detection autoencoder as Keras .h5 and as float .tflite (calibrated with a real
ToyCar recording's log-mel features) and the MLPerf Tiny KWS DS-CNN float .tflite (calibrated
with MFCCs of TFLM's speech recordings). Each is compared with the benchmark's own int8 model.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.convert import DATA, convert_json, run_cli, run_converter_script

from platformio_plugin.analysis.tflite_reader import parse_tflite

pytestmark = pytest.mark.convert

AD = "mlperf_ad_autoencoder"
KWS = "mlperf_kws_dscnn"


@pytest.fixture(scope="module")
def toycar(shared_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 frames x 640 log-mel features of a real ToyCar recording, as (40, 640) samples."""
    raw = shared_models / AD / "normal_id_01_00000000_hist_librosa.bin"
    path = tmp_path_factory.mktemp("toycar") / "toycar.npy"
    np.save(path, np.fromfile(raw, dtype="<f4").reshape(40, 640))
    return path


@pytest.fixture(scope="module")
def kws_features(
    converter_python: Path, shared_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("kws")
    wavs = shared_models / "tflm_micro_speech/testdata"
    proc = subprocess.run(
        [str(converter_python), str(DATA / "make_kws_features.py"), str(wavs), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _reference_io(path: Path) -> tuple[float, float]:
    """Input and output scale of the benchmark's own int8 model."""
    model = parse_tflite(path.read_bytes(), path.name)
    return (
        model.tensor(model.inputs[0]).scale[0],
        model.tensor(model.outputs[0]).scale[0],
    )


def _int8_ops(result: dict[str, Any]) -> set[str]:
    model = parse_tflite(Path(result["tflite"]).read_bytes())
    assert model.tensor(model.inputs[0]).dtype == "int8"
    assert model.tensor(model.outputs[0]).dtype == "int8"
    return set(result["report"]["ops"])


@pytest.mark.parametrize("source", ["ad01.h5", "ad01_fp32.tflite"])
def test_ad_autoencoder_quantized_with_real_features(
    tmp_path: Path, shared_models: Path, toycar: Path, source: str
) -> None:
    result = convert_json(shared_models / AD / source, "--calibration", toycar, "--out", tmp_path)
    report = result["report"]
    assert _int8_ops(result) == {"FULLY_CONNECTED"}
    assert report["io"]["input"]["shape"] == [1, 640] == report["source_input_shape"]
    assert result["input_layout"] == "NC"
    assert report["calibration_samples"] == 32 and report["compare_samples"] == 8
    # The reconstruction of held-out frames: int8 against the float model, in output steps.
    in_ref, out_ref = _reference_io(shared_models / AD / "ad01_int8.tflite")
    out_scale = report["io"]["output"]["scale"]
    assert report["mean_abs_err"] < 2 * out_scale, report
    assert report["max_abs_err"] < 12 * out_scale, report
    # One recording spans less range than the benchmark's calibration set, never more.
    assert 0.3 * in_ref < report["io"]["input"]["scale"] <= 1.05 * in_ref, (in_ref, report["io"])
    stages = report["stages"]
    assert ("keras_to_tflite" in stages) == source.endswith(".h5"), stages
    assert stages["quantize_tflite"]["seconds"] > 0


def test_kws_float_tflite_with_speech_features(
    tmp_path: Path, shared_models: Path, kws_features: Path
) -> None:
    args = (
        shared_models / KWS / "kws_ref_model_float32.tflite",
        "--calibration",
        kws_features / "calibration.npy",
        "--validation",
        kws_features / "validation.npz",
    )
    first = convert_json(*args, "--out", tmp_path / "a")
    second = convert_json(*args, "--out", tmp_path / "b")
    assert Path(first["tflite"]).read_bytes() == Path(second["tflite"]).read_bytes()
    report = first["report"]
    assert _int8_ops(first) == {
        "CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX",
    }  # fmt: skip
    # The model's own channels-last input, no transpose.
    assert report["io"]["input"]["shape"] == [1, 49, 10, 1] and first["input_layout"] == "NHWC"
    assert report["top1_agreement"] >= 90.0, report
    assert report["accuracy_int8"] >= report["accuracy_float"] - 100.0 / 16, report
    assert report["accuracy_float"] >= 25.0, report  # 4 classes of 12; chance is 8 %
    # Real MFCCs span what the benchmark's own calibration saw: the input scales agree.
    in_ref, out_ref = _reference_io(shared_models / KWS / "kws_ref_model_int8.tflite")
    assert abs(report["io"]["input"]["scale"] / in_ref - 1.0) < 0.25, (in_ref, report["io"])
    assert report["io"]["output"]["scale"] == out_ref == 1 / 256  # softmax: TFLite's fixed scale
    golden = json.loads(Path(first["golden"]).read_text())
    assert len(golden["vectors"][0]["input"]) == 490


def test_unreadable_keras_file_is_named(tmp_path: Path, toycar: Path) -> None:
    bad = tmp_path / "damaged.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 512)
    proc = run_cli("convert", bad, "--calibration", toycar, "--out", tmp_path / "out")
    assert proc.returncode != 0
    assert "damaged.h5 is not a Keras model" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out").exists()


def test_calibration_range_far_from_the_validation_data_is_warned(
    tmp_path: Path, shared_models: Path, toycar: Path
) -> None:
    """Calibration samples scaled 100x against the validation data (raw vs scaled features):
    the conversion goes on but says so with both ranges."""
    frames = np.load(toycar)
    np.save(tmp_path / "raw.npy", frames * 100.0)
    np.savez(tmp_path / "val.npz", x=frames)
    proc = run_cli(
        "convert", shared_models / AD / "ad01_fp32.tflite", "--calibration", tmp_path / "raw.npy",
        "--validation", tmp_path / "val.npz", "--out", tmp_path / "out", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("Warning! TinyML: ")]
    assert len(lines) == 1, proc.stdout
    lo, hi = float(frames.min()), float(frames.max())
    assert f"span [{lo * 100:.4g}, {hi * 100:.4g}] but the validation data span " in lines[0]
    assert f"[{lo:.4g}, {hi:.4g}]" in lines[0], lines[0]
    report = json.loads(proc.stdout[proc.stdout.index("\n{") + 1 :])["report"]
    assert report["warnings"] == [lines[0].removeprefix("Warning! TinyML: ")]


MAKE_SAVED_MODEL = """\
import json, sys
import numpy as np
import tensorflow as tf

tf.keras.utils.set_random_seed(5)
inp = tf.keras.Input((20,), name="features")
x = tf.keras.layers.Dense(16, activation="relu")(inp)
model = tf.keras.Model(inp, tf.keras.layers.Dense(3, activation="softmax")(x))
model.export(sys.argv[1] + "/gesture")  # a SavedModel folder with a serving signature
np.save(sys.argv[1] + "/gesture.calibration.npy",
        np.random.default_rng(5).normal(size=(50, 20)).astype(np.float32))
print(json.dumps("ok"))
"""


def test_saved_model_folder_is_quantized(tmp_path: Path, converter_python: Path) -> None:
    run_converter_script(converter_python, MAKE_SAVED_MODEL, tmp_path)
    assert (tmp_path / "gesture/saved_model.pb").is_file()
    result = convert_json(
        tmp_path / "gesture", "--calibration", tmp_path / "gesture.calibration.npy",
        "--out", tmp_path / "out",
    )  # fmt: skip
    report = result["report"]
    assert report["format"] == "saved_model" and "keras_to_tflite" in report["stages"]
    assert _int8_ops(result) == {"FULLY_CONNECTED", "SOFTMAX"}
    assert report["io"]["input"]["shape"] == [1, 20]
    assert report["top1_agreement"] >= 90.0, report
