"""Make a small int8 CNN with a residual ADD (run with the converter environment's python):
input [1, 8, 8, 4] -> Conv2D(4, 3x3, same, relu) -> ADD(input, conv) -> Conv2D(8, 3x3, stride
2) -> Flatten -> Dense(10) -> Softmax. Seeded; int8 input and output.

    python make_residual_cnn.py OUT.tflite
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_int8  # noqa: E402  (beside this script)
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


if __name__ == "__main__":
    keras_int8.write(build(), sys.argv[1])
