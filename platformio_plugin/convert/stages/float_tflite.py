"""TensorFlow-origin float models -> full-int8 .tflite.

A Keras model (.h5 / .keras) becomes a float .tflite with TFLiteConverter; a float .tflite is
then calibrated with the user's samples and quantized by the quantizer TFLiteConverter itself
runs for the other models here (its calibrator, then its MLIR quantizer), with int8 input and
output. The model keeps its own input layout: TensorFlow models are channels-last already.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ...analysis.layers import op_name
from ...analysis.tflite_reader import parse_tflite
from ...errors import ConversionError, ModelFileError
from .prepare import prepare_data
from .tflite_rewrite import drop_float_constant_marker, split_wide_concatenations


def run(request: dict[str, Any]) -> dict[str, Any]:
    step = request["step"]
    if step == "keras_to_tflite":
        return keras_to_tflite(request)
    if step == "prepare_tflite":
        return prepare_tflite(request)
    return quantize_tflite(request)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def keras_to_tflite(request: dict[str, Any]) -> dict[str, Any]:
    """``model`` (.h5 / .keras / SavedModel folder) -> ``out_tflite``, float32, as
    TFLiteConverter makes it."""
    if Path(request["model"]).is_dir():
        return _saved_model_to_tflite(request)
    if str(request["model"]).lower().endswith(".h5"):
        # An .h5 was written by Keras 2: its own loader (tf_keras) rebuilds the graph it was
        # trained as (Keras 3 turns a folded BatchNormalization into an extra ADD per layer).
        # Set before TensorFlow is imported: each step is a fresh process.
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf

    label = str(request["label"])
    keras = "tf_keras 2" if os.environ.get("TF_USE_LEGACY_KERAS") == "1" else "Keras 3"
    try:
        model = tf.keras.models.load_model(request["model"], compile=False)
    except Exception as exc:
        raise ModelFileError(
            f"{label} is not a Keras model {keras} can load "
            f"({type(exc).__name__}: {_first_line(exc)}).",
            "Save it again with model.save(...) as .keras or .h5; a model with custom layers "
            "needs them exported: convert it to ONNX (tf2onnx) and give the .onnx.",
        ) from None
    if len(model.inputs) != 1:
        raise ModelFileError(
            f"{label} has {len(model.inputs)} inputs; pio-tinyml supports one.",
            "Give a model with a single input tensor.",
        )
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    try:
        data = converter.convert()
    except Exception as exc:
        raise ConversionError(
            f"TFLiteConverter could not convert {label}: {_first_line(exc)}",
            "The model uses a layer TFLite has no op for; replace it in the model.",
        ) from None
    Path(request["out_tflite"]).write_bytes(data)
    return {"keras": keras}


def _saved_model_to_tflite(request: dict[str, Any]) -> dict[str, Any]:
    import tensorflow as tf

    label = str(request["label"])
    try:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(request["model"]))
        data = converter.convert()
    except Exception as exc:
        raise ConversionError(
            f"TFLiteConverter could not convert the SavedModel {label}: {_first_line(exc)}",
            "Save the model with one serving signature of one input "
            "(tf.saved_model.save / model.export), using ops TFLite has.",
        ) from None
    Path(request["out_tflite"]).write_bytes(data)
    return {"keras": ""}


def prepare_tflite(request: dict[str, Any]) -> dict[str, Any]:
    """The float model's input (shape as the model has it, batch 1) and the user's samples
    for it, saved as for the ONNX route."""
    src = Path(request["float_tflite"])
    label = str(request["label"])
    model = parse_tflite(src.read_bytes(), label)
    if len(model.inputs) != 1:
        raise ModelFileError(
            f"{label} has {len(model.inputs)} inputs; pio-tinyml supports one.",
            "Give a model with a single input tensor.",
        )
    tensor = model.tensor(model.inputs[0])
    if tensor.dtype != "float32":
        raise ModelFileError(
            f"{label}: input {tensor.name} is {tensor.dtype}: neither a float model to "
            "quantize nor a full-int8 one.",
            "Give the float model (float32 input) or a full-int8 .tflite.",
        )
    shape = [max(int(d), 1) for d in tensor.shape]
    shape[0] = 1
    result: dict[str, Any] = {"input_name": tensor.name, "input_shape": shape}
    result.update(prepare_data(request, shape, src.parent, label))
    return result


def quantize_tflite(request: dict[str, Any]) -> dict[str, Any]:
    """``float_tflite`` + calibration samples (``calib``) -> ``out_tflite``, full int8."""
    import tensorflow as tf
    from tensorflow.lite.python import convert
    from tensorflow.lite.python.optimize import calibrator

    random.seed(0)
    np.random.seed(0)
    shape = [int(d) for d in request["input_shape"]]
    samples = [np.ascontiguousarray(s.reshape(shape)) for s in np.load(request["calib"])]

    def representative() -> Iterator[list[np.ndarray]]:
        for s in samples:
            yield [s.astype(np.float32)]

    label = str(request["label"])
    float_model, _ = drop_float_constant_marker(Path(request["float_tflite"]).read_bytes())
    try:
        calibrated = calibrator.Calibrator(float_model).calibrate(representative)
        data = convert.mlir_quantize(
            calibrated,
            disable_per_channel=False,
            input_data_type=tf.int8,
            output_data_type=tf.int8,
        )
    except Exception as exc:
        raise ConversionError(
            f"TFLite's quantizer could not make a full-int8 model of {label}: {_first_line(exc)}",
            "Some op has no int8 TFLite kernel; replace it in the model.",
        ) from None
    _refuse_float_ops(bytes(data), label)
    data, split = split_wide_concatenations(bytes(data))
    Path(request["out_tflite"]).write_bytes(data)
    return {"bytes": len(data), "samples": len(samples), "concatenations_split": split}


def _refuse_float_ops(data: bytes, label: str) -> None:
    """A full-int8 model has no DEQUANTIZE: one means the quantizer left the ops that read it
    computing in float (a hybrid model, twice the flash and no CMSIS-NN kernel). Name them."""
    model = parse_tflite(data, label)
    names = [op_name(op) for op in model.operators]
    dequantized = {
        out for op, name in zip(model.operators, names) if name == "DEQUANTIZE"
        for out in op.outputs
    }  # fmt: skip
    left = [
        f"{name} (node {op.index})"
        for op, name in zip(model.operators, names)
        if name not in ("DEQUANTIZE", "QUANTIZE") and dequantized & set(op.inputs)
    ]
    if left:
        raise ConversionError(
            f"TFLite's quantizer left {label} computing in float: {', '.join(left)}.",
            "These ops have no int8 form in TFLite's quantizer for this graph; replace them in "
            "the model, or (PyTorch) try the other route with custom_tinyml_frontend.",
        )
