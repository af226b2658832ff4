"""Make a small int8 model with two stacked UNIDIRECTIONAL_SEQUENCE_LSTM layers (run with the
converter environment's python): input [1, T, F] (F = 257 spectrum bins, T frames) ->
LSTM(H) -> LSTM(H) -> Dense(F, sigmoid), a noise-suppression mask's shape. Seeded.

    python make_stacked_lstm.py OUT.tflite [--frames T] [--features F] [--hidden H]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Keras 2 (tf_keras): its LSTM carries the annotation the converter fuses into one
# UNIDIRECTIONAL_SEQUENCE_LSTM op; a Keras 3 LSTM becomes a WHILE loop.
os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def build(frames: int, features: int, hidden: int) -> "tf.keras.Model":
    tf.keras.utils.set_random_seed(1234)
    inp = tf.keras.Input(shape=(frames, features), batch_size=1, name="spectrum")
    x = tf.keras.layers.LSTM(hidden, return_sequences=True, name="lstm1")(inp)
    x = tf.keras.layers.LSTM(hidden, return_sequences=True, name="lstm2")(x)
    out = tf.keras.layers.Dense(features, activation="sigmoid", name="mask")(x)
    return tf.keras.Model(inp, out)


def convert(model: "tf.keras.Model", frames: int, features: int) -> bytes:
    # A fixed batch (Input batch_size=1) lets the converter fuse each LSTM into one op.
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(42)

    def representative():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield [rng.uniform(0.0, 1.0, (1, frames, features)).astype(np.float32)]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return bytes(converter.convert())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--features", type=int, default=257)
    ap.add_argument("--hidden", type=int, default=64)
    args = ap.parse_args()
    data = convert(build(args.frames, args.features, args.hidden), args.frames, args.features)
    with open(args.out, "wb") as fp:
        fp.write(data)
    interp = tf.lite.Interpreter(model_content=data)
    ops = [d["op_name"] for d in interp._get_ops_details()]
    print(f"wrote {args.out} ({len(data)} bytes); ops: {ops}")


if __name__ == "__main__":
    main()
