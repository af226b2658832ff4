"""Make a small int8 CNN with PAD, PADV2 and MEAN nodes (run with the converter environment's
python): input [1, 12, 12, 3] -> ZeroPadding2D(((1, 2), (2, 1))) (PAD) -> Conv2D(8, 3x3,
relu) -> tf.pad by 1 with the value -1.0 (PADV2) -> DepthwiseConv2D(3x3, stride 2) ->
mean over the width, reshaped to [1, 7, 1, 8] (the converter makes one MEAN, axis 2) ->
GlobalAveragePooling2D(keepdims=True) (MEAN, axes 1 and 2) -> Flatten -> Dense(10), no
softmax: the int8 logits show every step. Seeded; int8 input and output.

    python make_pad_mean_cnn.py OUT.tflite
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_int8  # noqa: E402  (beside this script)
import tensorflow as tf  # noqa: E402


class PadWithValue(tf.keras.layers.Layer):
    def call(self, x):  # type: ignore[no-untyped-def]
        return tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=-1.0)


class MeanOverWidth(tf.keras.layers.Layer):
    def call(self, x):  # type: ignore[no-untyped-def]
        return tf.reduce_mean(x, axis=2)


def build() -> "tf.keras.Model":
    tf.keras.utils.set_random_seed(1234)
    inp = tf.keras.Input(shape=(12, 12, 3), batch_size=1, name="image")
    x = tf.keras.layers.ZeroPadding2D(((1, 2), (2, 1)))(inp)
    x = tf.keras.layers.Conv2D(8, 3, activation="relu", name="conv")(x)
    x = PadWithValue()(x)
    x = tf.keras.layers.DepthwiseConv2D(3, strides=2, name="depthwise")(x)
    x = MeanOverWidth()(x)
    x = tf.keras.layers.Reshape((7, 1, 8))(x)
    x = tf.keras.layers.GlobalAveragePooling2D(keepdims=True)(x)
    x = tf.keras.layers.Flatten()(x)
    out = tf.keras.layers.Dense(10, name="logits")(x)
    return tf.keras.Model(inp, out)


if __name__ == "__main__":
    keras_int8.write(build(), sys.argv[1])
