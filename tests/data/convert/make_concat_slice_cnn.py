"""Make a small int8 CNN with CONCATENATION and STRIDED_SLICE nodes (run with the converter
environment's python): input [1, 8, 8, 4] -> Conv2D(6, 3x3, same, relu) and Conv2D(2, 1x1)
side by side -> Concatenate on the channels (CONCATENATION) -> x[:, 1:7, ::2, 2:]
(STRIDED_SLICE, begin and stride) -> Conv2D(8, 1x1, relu) -> x[:, -2, :, ::-3]
(STRIDED_SLICE, a shrunk axis and a negative stride) -> Flatten -> Dense(10), no softmax.
Seeded; int8 input and output.

    python make_concat_slice_cnn.py OUT.tflite
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_int8  # noqa: E402  (beside this script)
import tensorflow as tf  # noqa: E402


class Slice(tf.keras.layers.Layer):
    def __init__(self, index, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.index = index

    def call(self, x):  # type: ignore[no-untyped-def]
        return x[self.index]


def build() -> "tf.keras.Model":
    tf.keras.utils.set_random_seed(1234)
    inp = tf.keras.Input(shape=(8, 8, 4), batch_size=1, name="image")
    a = tf.keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_a")(inp)
    b = tf.keras.layers.Conv2D(2, 1, name="conv_b")(inp)
    x = tf.keras.layers.Concatenate(axis=-1)([a, b])
    x = Slice((slice(None), slice(1, 7), slice(None, None, 2), slice(2, None)))(x)
    x = tf.keras.layers.Conv2D(8, 1, activation="relu", name="conv_c")(x)
    x = Slice((slice(None), -2, slice(None), slice(None, None, -3)))(x)
    x = tf.keras.layers.Flatten()(x)
    out = tf.keras.layers.Dense(10, name="logits")(x)
    return tf.keras.Model(inp, out)


if __name__ == "__main__":
    keras_int8.write(build(), sys.argv[1])
