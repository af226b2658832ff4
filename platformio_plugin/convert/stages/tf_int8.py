"""ONNX -> TensorFlow -> full-int8 .tflite in one process.

TensorFlow is imported once, and the model goes from onnx2tf to TFLiteConverter in memory: no
SavedModel written and read back, no float32/float16 .tflite that nothing uses. The seconds of
each part are returned, so the progress lines and the report keep both stages.
"""

from __future__ import annotations

import time
from typing import Any

from . import onnx_to_tf, quantize


def preload() -> None:
    """Import TensorFlow and onnx2tf while the steps before this one run."""
    import onnx2tf  # noqa: F401 - imports tensorflow
    import tensorflow  # noqa: F401


def run(request: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    model, layout = onnx_to_tf.to_keras(request)
    converted = time.monotonic()
    int8 = quantize.from_keras(model, {**request, **layout})
    return {
        **layout,
        **int8,
        "onnx2tf_seconds": round(converted - started, 2),
        "quantize_seconds": round(time.monotonic() - converted, 2),
    }
