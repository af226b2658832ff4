"""ONNX model -> self-contained ONNX with batch 1; calibration/validation data -> .npy
(the data part is shared with the TensorFlow-origin models, see float_tflite.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import CalibrationDataError, ConfigError, ModelFileError
from .data import load_samples


def _fix_onnx(src: Path, dst: Path, shape_override: Any) -> tuple[str, list[int], list[str]]:
    import onnx

    try:
        model = onnx.load(str(src), load_external_data=True)
    except Exception as exc:
        raise ModelFileError(
            f"{src} is not a readable ONNX model "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}).",
            "Re-export it (torch.onnx.export) as a single .onnx file.",
        ) from None
    graph = model.graph
    init_names = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in init_names]
    if len(inputs) != 1:
        raise ModelFileError(
            f"{src} has {len(inputs)} inputs "
            f"({', '.join(i.name for i in inputs)}); pio-tinyml supports one.",
            "Export a model with a single input tensor.",
        )
    inp = inputs[0]
    ttype = inp.type.tensor_type
    if ttype.elem_type != onnx.TensorProto.FLOAT:
        raise ModelFileError(
            f"{src}: input {inp.name} is not float32.",
            "Export the float model; pio-tinyml quantizes it to int8.",
        )
    dims = ttype.shape.dim
    if shape_override:
        shape = [int(d) for d in shape_override]
        if len(shape) != len(dims):
            raise ConfigError(
                f"Input shape {tuple(shape)} has rank {len(shape)} but {src} "
                f"input {inp.name} has rank {len(dims)}.",
                "Give the shape in the model's own layout with batch 1.",
            )
    else:
        shape = []
        for i, d in enumerate(dims):
            if d.HasField("dim_value") and d.dim_value > 0:
                shape.append(int(d.dim_value))
            elif i == 0:
                shape.append(1)  # dynamic batch -> 1
            else:
                raise ConfigError(
                    f"{src}: input {inp.name} dimension {i} is dynamic ({d.dim_param or '?'}).",
                    "Set custom_tinyml_input_shape (CLI: --input-shape).",
                )
    if shape[0] != 1:
        shape[0] = 1
    for d, v in zip(dims, shape):
        d.ClearField("dim_param")
        d.dim_value = v
    for out in graph.output:
        odims = out.type.tensor_type.shape.dim
        if odims and not odims[0].HasField("dim_value"):
            odims[0].ClearField("dim_param")
            odims[0].dim_value = 1
    # onnx2tf runs its own shape inference; a failure here is reported there.
    with contextlib.suppress(Exception):
        model = onnx.shape_inference.infer_shapes(model)
    onnx.save(model, str(dst), save_as_external_data=False)
    return inp.name, shape, [o.name for o in graph.output]


def run(request: dict[str, Any]) -> dict[str, Any]:
    src = Path(request["onnx"])
    dst = Path(request["out_onnx"])
    name, shape, outputs = _fix_onnx(src, dst, request.get("input_shape"))
    result: dict[str, Any] = {"input_name": name, "input_shape": shape, "outputs": outputs}
    result.update(prepare_data(request, shape, dst.parent, str(request.get("model", src))))
    return result


def prepare_data(
    request: dict[str, Any], shape: list[int], work: Path, model: str
) -> dict[str, Any]:
    """Calibration (and validation) samples for an input of ``shape`` -> ``work``/calib.npy,
    compare_x.npy and, with labels, compare_y.npy."""
    min_samples = int(request.get("min_samples", 10))
    calib = request.get("calibration")
    if not calib:
        raise CalibrationDataError(
            f"{model} is a float model and no calibration data was given; "
            "int8 quantization needs real input samples to choose value ranges.",
            "Give 100-500 samples in the model's input layout: custom_tinyml_calibration = "
            "path/to/calibration.npy (CLI: --calibration).",
        )
    x, _ = load_samples(Path(calib), tuple(shape), min_samples)
    compare_y = None
    val = request.get("validation")
    if val:  # a separate labelled set: every calibration sample calibrates
        rep = x
        compare_x, compare_y = load_samples(Path(val), tuple(shape), 1, role="validation")
    elif len(x) > 1:
        # Every 5th sample is held out (never seen by the calibrator) to compare float and
        # int8. Interleaved, not the tail: files are often sorted (by class, by value), and a
        # tail held out would leave part of the input range out of calibration.
        held = np.arange(len(x)) % 5 == 4
        rep, compare_x = x[~held], x[held]
    else:
        rep = compare_x = x
    np.save(work / "calib.npy", rep)
    np.save(work / "compare_x.npy", compare_x)
    if compare_y is not None:
        np.save(work / "compare_y.npy", compare_y)
    return {
        "calibration_samples": int(len(rep)),
        "compare_samples": int(len(compare_x)),
        "labels": compare_y is not None,
    }
