"""ONNX model -> self-contained ONNX with batch 1; calibration/validation data -> .npy
(the data part is shared with the TensorFlow-origin models, see float_tflite.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import CalibrationDataError, ConfigError, ModelFileError
from .data import load_samples

# Ops whose input layout ONNX defines as channels-first (NCW / NCHW / NCDHW).
CHANNELS_FIRST_OPS = frozenset({
    "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool",
    "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "BatchNormalization",
    "InstanceNormalization", "LRN", "SpaceToDepth", "DepthToSpace", "Resize", "Upsample",
})  # fmt: skip
# Ops that keep their input's layout: the walk looks through them.
ELEMENTWISE_OPS = frozenset({
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Neg", "Abs", "Sqrt", "Exp", "Log",
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Clip", "Sigmoid", "HardSigmoid", "Tanh",
    "HardSwish", "Identity", "Cast", "Dropout", "Pad", "QuantizeLinear", "DequantizeLinear",
})  # fmt: skip
LAYOUT_NAMES = {3: ("NCW", "NWC"), 4: ("NCHW", "NHWC"), 5: ("NCDHW", "NDHWC")}


def layout_choice(graph: Any, name: str, rank: int, option: str) -> dict[str, Any]:
    """Whether onnx2tf should move the input's channels last ("keep": False) or leave the input
    as the model has it, with the layout name of the device input and why.

    auto: an input that reaches an op ONNX defines as channels-first (Conv, pooling, ...)
    through elementwise ops only is channels-first and goes channels-last, as TFLite's kernels
    want; any other input (a Transpose first: Keras/TensorFlow origin; MatMul, LSTM, Reshape:
    sequences and features) keeps its layout, so the device takes the data as the model does.
    """
    first, last = LAYOUT_NAMES.get(rank, ("", ""))
    if rank < 3:
        return {"keep": True, "name": "N" + "C" * (rank - 1) if rank else "", "why": ""}
    if option == "keep":
        return {"keep": True, "name": first, "why": "custom_tinyml_input_layout = keep"}
    if option == "nchw":
        return {"keep": False, "name": last, "why": "custom_tinyml_input_layout = nchw"}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for value in node.input:
            consumers.setdefault(value, []).append(node)
    seen, frontier, reached = set(), [name], []
    while frontier:
        value = frontier.pop()
        for node in consumers.get(value, []):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.op_type in ELEMENTWISE_OPS:
                frontier.extend(node.output)
            else:
                reached.append(node)
    cf = [n for n in reached if n.op_type in CHANNELS_FIRST_OPS]
    if cf:
        return {"keep": False, "name": last, "why": f"feeds {cf[0].op_type}"}
    ops = sorted({n.op_type for n in reached}) or ["nothing"]
    name_kept = ""
    for n in reached:
        perm = next((list(a.ints) for a in n.attribute if a.name == "perm"), None)
        if n.op_type == "Transpose" and perm == [0, rank - 1, *range(1, rank - 1)]:
            name_kept = last  # channels-last data moved to channels-first inside the model
    return {"keep": True, "name": name_kept, "why": f"feeds {', '.join(ops)}"}


def _fix_onnx(
    src: Path, dst: Path, shape_override: Any, layout_option: str = "auto"
) -> tuple[str, list[int], list[str], dict[str, Any]]:
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
    layout = layout_choice(model.graph, inp.name, len(shape), layout_option)
    return inp.name, shape, [o.name for o in graph.output], layout


def run(request: dict[str, Any]) -> dict[str, Any]:
    src = Path(request["onnx"])
    dst = Path(request["out_onnx"])
    name, shape, outputs, layout = _fix_onnx(
        src, dst, request.get("input_shape"), str(request.get("input_layout", "auto"))
    )
    result: dict[str, Any] = {
        "input_name": name,
        "input_shape": shape,
        "outputs": outputs,
        "layout": layout,
    }
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
    warning = range_mismatch(rep, compare_x) if val else ""
    return {
        "calibration_samples": int(len(rep)),
        "compare_samples": int(len(compare_x)),
        "labels": compare_y is not None,
        "warnings": [f"{model}: {warning}"] if warning else [],
    }


def range_mismatch(calibration: np.ndarray, validation: np.ndarray) -> str:
    """Why the calibration data's range does not match the validation data's ("" when it
    does): int8 steps follow the calibration range, so data beyond it clip, and a range many
    times wider (raw 0..255 pixels for a model fed 0..1) leaves few steps for the real values.
    """
    c_lo, c_hi = float(calibration.min()), float(calibration.max())
    v_lo, v_hi = float(validation.min()), float(validation.max())
    c_span, v_span = c_hi - c_lo, v_hi - v_lo
    if c_span <= 0.0 or v_span <= 0.0:
        return ""
    outside = max(c_lo - v_lo, v_hi - c_hi, 0.0) / c_span
    if c_span <= 4.0 * v_span and outside <= 0.25:
        return ""
    return (
        f"the calibration data span [{c_lo:.4g}, {c_hi:.4g}] but the validation data span "
        f"[{v_lo:.4g}, {v_hi:.4g}]; int8 steps follow the calibration range (values beyond it "
        "clip, a much wider one wastes resolution). Preprocess the calibration samples as the "
        "validation data and the device input are (same scaling, e.g. 0..1 vs 0..255)."
    )
