"""ONNX -> TensorFlow (a Keras model in memory) with onnx2tf, which makes 3-5-D inputs
channels-last. Nothing is saved: onnx2tf would otherwise write a SavedModel and convert it to
float32 and float16 .tflite files, none of which the int8 model needs (see tf_int8.py)."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConversionError
from ..calibcheck import channels_last

# onnx2tf reads this file from the working directory for its dummy inference of
# 3-channel 4-D inputs and downloads it from the internet when it is missing.
ONNX2TF_SAMPLE_FILE = "calibration_image_sample_data_20x128x128x3_float32.npy"


def _seed() -> None:
    import random

    import tensorflow as tf

    random.seed(0)
    np.random.seed(0)
    tf.random.set_seed(0)


def to_keras(request: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The Keras model onnx2tf builds, and how its input relates to the ONNX one."""
    onnx_path = Path(request["onnx"])
    out_dir = Path(request["tf_dir"])
    calib = np.load(request["calib"])
    name = str(request["input_name"])
    shape = [int(d) for d in request["input_shape"]]
    work = out_dir.parent
    keep = bool(request.get("keep_layout", False))
    predicted = shape if keep else list(channels_last(shape))
    cind_file = work / "onnx2tf_cind.npy"
    sample = calib[:1].reshape(shape)
    if predicted != shape:
        sample = np.moveaxis(sample, 1, -1)
    np.save(cind_file, np.ascontiguousarray(sample, dtype=np.float32))
    if len(shape) == 4 and 3 in (shape[1], shape[-1]):
        # Our own samples stand in for onnx2tf's downloaded images (never the network).
        image = sample if predicted[-1] == 3 else np.moveaxis(sample, 1, -1)
        np.save(
            Path.cwd() / ONNX2TF_SAMPLE_FILE,
            np.repeat(np.ascontiguousarray(image, dtype=np.float32), 20, axis=0),
        )
    recurrent = recurrent_ops(onnx_path)
    _seed()
    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    import onnx2tf

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            model = onnx2tf.convert(
                input_onnx_file_path=str(onnx_path),
                output_folder_path=str(out_dir),
                custom_input_op_name_np_data_path=[[name, str(cind_file), 0.0, 1.0]],
                non_verbose=True,
                disable_model_save=True,
                keep_shape_absolutely_input_names=[name] if keep else None,
                enable_rnn_unroll=bool(recurrent),
            )
        except SystemExit as exc:  # onnx2tf reports errors with sys.exit(1)
            print(buffer.getvalue())
            raise ConversionError(
                f"onnx2tf could not convert {onnx_path.name} (exit {exc.code}): "
                f"{_last_error(buffer.getvalue())}",
                "The model uses an ONNX construct onnx2tf cannot map to TensorFlow; "
                "simplify the model (onnxsim) or replace the op in PyTorch.",
            ) from None
    print(buffer.getvalue())
    if model is None or not getattr(model, "inputs", None):
        raise ConversionError(
            f"onnx2tf produced no model for {onnx_path.name}: {_last_error(buffer.getvalue())}", ""
        )
    tf_shape = [int(d) if d is not None else 1 for d in model.inputs[0].shape]
    if tf_shape == shape:
        layout = "same"
    elif tf_shape == list(channels_last(shape)):
        layout = "channels_last"
    else:
        raise ConversionError(
            f"onnx2tf made the input {tf_shape} from the model's {shape}; pio-tinyml cannot map "
            "the calibration data to it.",
            "Please report this model.",
        )
    return model, {"tf_input_shape": tf_shape, "layout": layout, "unrolled": recurrent}


def recurrent_ops(onnx_path: Path) -> list[str]:
    """The ONNX LSTM / GRU / RNN nodes' op types. onnx2tf makes each a TensorFlow while loop,
    which TensorFlow's int8 calibrator crashes on (SIGSEGV, TensorFlow 2.19); unrolled over
    the model's fixed sequence length they quantize as plain ops TFLite Micro runs."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    return sorted({n.op_type for n in graph.node if n.op_type in ("LSTM", "GRU", "RNN")})


def _last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if "ERROR" in ln or "Error" in ln]
    return lines[-1][:300] if lines else "see the log"
