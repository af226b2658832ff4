"""Checks on an int8 .tflite: int8 I/O, TFLM op support, float vs int8, golden vectors."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np

from ...errors import AccuracyError, ConversionError, ModelFileError, UnsupportedOpsError
from ...tflm import op_table

MAX_COMPARE = 500


def model_ops(data: bytes) -> list[tuple[str, str]]:
    """(node, op name) for every operator, node as 'index' or 'index:output tensor'."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    model = fb.Model.GetRootAsModel(data, 0)
    codes = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        code = op_table.effective_builtin_code(oc.DeprecatedBuiltinCode(), oc.BuiltinCode())
        if code == 32:  # CUSTOM
            codes.append((oc.CustomCode() or b"?").decode())
        else:
            codes.append(op_table.builtin_name(code))
    out = []
    for s in range(model.SubgraphsLength()):
        sg = model.Subgraphs(s)
        for i in range(sg.OperatorsLength()):
            op = sg.Operators(i)
            name = ""
            if op.OutputsLength():
                t = sg.Tensors(op.Outputs(0))
                name = (t.Name() or b"").decode()
            node = f"{i}" if s == 0 else f"{s}/{i}"
            out.append((f"{node}:{name}" if name else node, codes[op.OpcodeIndex()]))
    return out


def check_ops(data: bytes, label: str) -> list[str]:
    ops = model_ops(data)
    offenders = [(node, op) for node, op in ops if op_table.lookup(op) is None]
    if offenders:
        raise UnsupportedOpsError(
            label,
            offenders,
            "Replace these layers in the model with ones TFLite Micro supports "
            '(see "Supported ops" in the README), then convert again.',
        )
    return sorted({op for _, op in ops})


def _quant(details: dict[str, Any]) -> tuple[float, int]:
    q = details["quantization_parameters"]
    scales, zps = q["scales"], q["zero_points"]
    return (float(scales[0]) if len(scales) else 0.0, int(zps[0]) if len(zps) else 0)


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """The lines written to file descriptor 2 (where TFLM's C++ prints) inside the block; they
    are written on to the step's log afterwards."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            sys.stderr.write(text)
            lines.extend(line.strip() for line in text.splitlines() if line.strip())


FAILED_NODE = re.compile(r"Node (\S+) \(number (\d+)\) failed to (prepare|invoke)")
# TFLM's kernels' limits a model can run into, with what to change in the model.
KNOWN_LIMITS = (
    (
        "CONCATENATION",
        "kMaxInputNum",
        "TFLite Micro's CONCATENATION joins at most 10 tensors: concatenate in groups of up to "
        "10 (torch.cat / concat of the groups' results).",
    ),
)


def rejection(label: str, log: list[str], converted: bool) -> ModelFileError:
    """What TFLM printed when it refused to allocate the model, as an error naming the node,
    its op and TFLM's words, with a fix in the model where the cause is known."""
    found = None
    for line in log:
        match = FAILED_NODE.search(line)
        if match:
            found = match
    said = "; ".join(line for line in log if not FAILED_NODE.search(line))[-400:]
    if found is None:
        what = f"{label}: TFLite Micro cannot load this model" + (f": {said}" if said else "")
        hint = (
            "This is the int8 model pio-tinyml made; the conversion log in the build folder has "
            "TFLM's full output."
            if converted
            else "Re-export the model with the TFLite converter (full int8); a truncated or "
            "hand-edited file is the usual cause."
        )
        return ModelFileError(what, hint)
    op, node, stage = found.group(1), found.group(2), found.group(3)
    what = f"{label}: TFLite Micro rejects node {node} ({op}) when it {stage}s the model"
    if said:
        what += f": {said}"
    hint = next(
        (fix for name, needle, fix in KNOWN_LIMITS if name == op and needle in said),
        f"Change that {op} layer in the model so TFLite Micro's kernel accepts it (see "
        '"Supported ops" in the README).',
    )
    return ModelFileError(what, hint)


def check_int8_io(data: bytes, label: str, converted: bool = False) -> dict[str, Any]:
    from tflite_micro import runtime

    try:
        with captured_stderr() as log:
            interp = runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 1 << 20))
    except Exception:
        raise rejection(label, log, converted) from None
    info: dict[str, Any] = {}
    for role, details in (
        ("input", interp.get_input_details(0)),
        ("output", interp.get_output_details(0)),
    ):
        dtype = np.dtype(details["dtype"]).name
        scale, zp = _quant(details)
        if dtype != "int8":
            raise ConversionError(
                f"{label}: {role} tensor is {dtype}, not int8 (a float or partly quantized model).",
                "pio-tinyml runs full-int8 models and quantizes float ones itself (float32 "
                "input, with custom_tinyml_calibration); give the float version of this model.",
            )
        if not scale > 0.0:
            raise ConversionError(
                f"{label}: {role} tensor is int8 but has no quantization scale (scale {scale}).",
                "The model was not calibrated; convert it again with real calibration data.",
            )
        info[role] = {"shape": [int(d) for d in details["shape"]], "scale": scale, "zero_point": zp}
    return info


def quantize(x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)


def tflm_run(data: bytes, inputs: np.ndarray, in_shape: list[int]) -> np.ndarray:
    from tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 1 << 20))
    outs = []
    for q in inputs:
        interp.set_input(q.reshape(in_shape), 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0), dtype=np.int8).copy())
        interp.reset()
    return np.stack(outs)


def _float_ref(onnx_path: str, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    # The float model as written: ONNX Runtime's graph rewrites are not needed for a reference,
    # and its constant folding fails on a Split of more than a few outputs ("Cannot parse data
    # from external tensors", onnxruntime 1.23).
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.stack([sess.run(None, {name: s[None].astype(np.float32)})[0][0] for s in x])


def _float_ref_tflite(tflite_path: str, x: np.ndarray) -> np.ndarray:
    """The float .tflite's outputs in LiteRT's interpreter (the TensorFlow-origin models)."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=tflite_path, num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]["index"]
    outs = []
    for s in x:
        interp.set_tensor(inp["index"], s.reshape(inp["shape"]).astype(np.float32))
        interp.invoke()
        outs.append(np.array(interp.get_tensor(out)[0], dtype=np.float32).copy())
    return np.stack(outs)


def _golden(path: Path, qin: np.ndarray, qout: np.ndarray, io: dict[str, Any]) -> None:
    doc = {
        "input": io["input"],
        "output": io["output"],
        "vectors": [
            {"input": a.reshape(-1).tolist(), "output": b.reshape(-1).tolist()}
            for a, b in zip(qin, qout)
        ],
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")


def run(request: dict[str, Any]) -> dict[str, Any]:
    tflite = Path(request["tflite"])
    label = str(request.get("label", tflite.name))
    data = tflite.read_bytes()
    if request["step"] == "inspect_tflite" and data[4:8] != b"TFL3":
        raise ModelFileError(
            f"{label} is not a TFLite flatbuffer (no TFL3 identifier).",
            "Give a .tflite file written by the TFLite converter.",
        )
    try:
        ops = check_ops(data, label)
    except UnsupportedOpsError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"{label} cannot be parsed as a TFLite model: {exc}",
            "Re-export the model; a truncated download or copy is the usual cause.",
        ) from None
    io = check_int8_io(data, label, converted=request["step"] != "inspect_tflite")
    in_shape = io["input"]["shape"]
    report: dict[str, Any] = {"ops": ops, "io": io}
    n_golden = int(request.get("golden_vectors", 4))
    compare_x: Optional[np.ndarray] = None
    if request.get("compare_x"):
        compare_x = np.load(request["compare_x"])[:MAX_COMPARE].astype(np.float32)
    if compare_x is None:
        rng = np.random.default_rng(0)
        qin = rng.integers(-128, 128, size=(n_golden, *in_shape), dtype=np.int64).astype(np.int8)
        qout = tflm_run(data, qin, in_shape)
        _golden(Path(request["out_golden"]), qin, qout, io)
        report["golden_source"] = "seeded random int8 inputs"
        return report
    tf_x = np.moveaxis(compare_x, 1, -1) if request.get("layout") == "channels_last" else compare_x
    s_in, z_in = io["input"]["scale"], io["input"]["zero_point"]
    s_out, z_out = io["output"]["scale"], io["output"]["zero_point"]
    qin = quantize(tf_x, s_in, z_in)
    qout = tflm_run(data, qin, in_shape)
    deq = (qout.astype(np.float32) - z_out) * s_out
    if request.get("float_tflite"):
        ref = _float_ref_tflite(request["float_tflite"], compare_x).reshape(deq.shape)
    else:
        ref = _float_ref(request["onnx"], compare_x).reshape(deq.shape)
    err = np.abs(deq - ref)
    report["compare_samples"] = int(len(compare_x))
    report["max_abs_err"] = float(err.max())
    report["mean_abs_err"] = float(err.mean())
    flat_ref, flat_q = ref.reshape(len(ref), -1), deq.reshape(len(deq), -1)
    if flat_ref.shape[1] > 1:
        top_f, top_q = flat_ref.argmax(1), flat_q.argmax(1)
        report["top1_agreement"] = float((top_f == top_q).mean() * 100.0)
        drop = 100.0 - report["top1_agreement"]
        if request.get("compare_y"):
            y = np.load(request["compare_y"])[:MAX_COMPARE]
            report["accuracy_float"] = float((top_f == y).mean() * 100.0)
            report["accuracy_int8"] = float((top_q == y).mean() * 100.0)
            drop = report["accuracy_float"] - report["accuracy_int8"]
        report["accuracy_drop"] = float(drop)
        limit = request.get("max_accuracy_drop")
        if limit is not None and drop > float(limit):
            what = "accuracy" if "accuracy_float" in report else "top-1 agreement with float"
            raise AccuracyError(
                f"{label}: int8 {what} dropped by {drop:.2f} points (limit {float(limit):.2f}).",
                "Give more (and more representative) calibration samples, or raise "
                "custom_tinyml_max_accuracy_drop.",
            )
    _golden(Path(request["out_golden"]), qin[:n_golden], qout[:n_golden], io)
    report["golden_source"] = "quantized held-out samples"
    return report
