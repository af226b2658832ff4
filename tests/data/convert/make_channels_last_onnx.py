"""ONNX models laid out as Keras/TensorFlow exports them (run with the converter environment's
python), seeded, with calibration data:

- seq_mlp.onnx: input [N, 130, 13] (MFCC frames x coefficients) -> MatMul 13x16 + Add + Relu
  -> MatMul 16x4 + Add, output [N, 130, 4]: a sequence model, not channels-first;
- nhwc_cnn.onnx: input [N, 12, 12, 3] -> Transpose(0, 3, 1, 2) -> Conv 3x3 (8) + Relu
  -> GlobalAveragePool -> Flatten -> Gemm 8x5, output [N, 5]: tf2onnx's form of a Keras CNN.

    python make_channels_last_onnx.py OUT_DIR
"""

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(7)


def _weights(name: str, *shape: int) -> onnx.TensorProto:
    scale = 1.0 / np.sqrt(shape[0] if len(shape) == 2 else np.prod(shape[1:]))
    return numpy_helper.from_array((RNG.standard_normal(shape) * scale).astype(np.float32), name)


def _model(nodes: list, inputs: list, outputs: list, inits: list) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.producer_name = "tf2onnx"
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def seq_mlp() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("mfcc", TensorProto.FLOAT, ["N", 130, 13])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 130, 4])
    nodes = [
        helper.make_node("MatMul", ["mfcc", "w1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w2"], ["h3"]),
        helper.make_node("Add", ["h3", "b2"], ["scores"]),
    ]
    inits = [_weights("w1", 13, 16), _weights("b1", 16), _weights("w2", 16, 4),
             _weights("b2", 4)]  # fmt: skip
    return _model(nodes, [x], [y], inits)


def nhwc_cnn() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 12, 12, 3])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 5])
    nodes = [
        helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["nchw", "k", "kb"], ["c"], kernel_shape=[3, 3], pads=[1] * 4),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "w", "wb"], ["logits"]),
    ]
    inits = [_weights("k", 8, 3, 3, 3), _weights("kb", 8), _weights("w", 8, 5),
             _weights("wb", 5)]  # fmt: skip
    return _model(nodes, [x], [y], inits)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(seq_mlp(), out / "seq_mlp.onnx")
    np.save(out / "seq_mlp.calibration.npy", RNG.standard_normal((60, 130, 13)).astype(np.float32))
    onnx.save(nhwc_cnn(), out / "nhwc_cnn.onnx")
    np.save(out / "nhwc_cnn.calibration.npy", RNG.uniform(0, 1, (60, 12, 12, 3)).astype(np.float32))
    print('{"made": 2}')


if __name__ == "__main__":
    main(Path(sys.argv[1]))
