"""Keras model -> full-int8 .tflite with TFLiteConverter and the calibration samples."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ...errors import ConversionError
from .tflite_rewrite import split_wide_concatenations


def from_keras(model: Any, request: dict[str, Any]) -> dict[str, Any]:
    """``request``: calib (.npy), layout and tf_input_shape (from onnx_to_tf), out_tflite."""
    import tensorflow as tf

    random.seed(0)
    np.random.seed(0)
    tf.random.set_seed(0)
    calib = np.load(request["calib"]).astype(np.float32)
    if request["layout"] == "channels_last":
        calib = np.moveaxis(calib, 1, -1)
    tf_shape = [int(d) for d in request["tf_input_shape"]]
    samples = [np.ascontiguousarray(s.reshape(tf_shape)) for s in calib]
    if not samples:
        raise ConversionError("No calibration samples reached the quantizer.", "")

    def representative() -> Iterator[list[np.ndarray]]:
        for s in samples:
            yield [s]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    try:
        data = converter.convert()
    except Exception as exc:
        text = str(exc).strip().splitlines()
        ops = [ln.strip() for ln in text if "op" in ln.lower() and ("tf." in ln or "'" in ln)]
        raise ConversionError(
            "TFLiteConverter could not make a full-int8 model: "
            + (ops[0] if ops else (text[-1] if text else type(exc).__name__))[:400],
            "Some op has no int8 TFLite kernel; replace it in the model.",
        ) from None
    data, split = split_wide_concatenations(data)
    Path(request["out_tflite"]).write_bytes(data)
    return {"bytes": len(data), "samples": len(samples), "concatenations_split": split}
