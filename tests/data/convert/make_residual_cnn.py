"""Make a small int8 CNN with a residual ADD (run with the converter environment's python):
input [1, 8, 8, 4] -> Conv2D(4, 3x3, same, relu) -> ADD(input, conv) -> Conv2D(8, 3x3, stride
2) -> Flatten -> Dense(10) -> Softmax. Seeded; int8 input and output.

    python make_residual_cnn.py OUT.tflite
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def build() -> "tf.keras.Model":
    tf.keras.utils.set_random_seed(1234)
    inp = tf.keras.Input(shape=(8, 8, 4), batch_size=1, name="image")
    x = tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inp)
    x = tf.keras.layers.Add(name="residual")([inp, x])
    x = tf.keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    x = tf.keras.layers.Flatten()(x)
    out = tf.keras.layers.Dense(10, activation="softmax", name="classes")(x)
    return tf.keras.Model(inp, out)


def convert(model: "tf.keras.Model") -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(42)

    def representative():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield [rng.uniform(-1.0, 1.0, (1, 8, 8, 4)).astype(np.float32)]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as out:
        out.write(convert(build()))
