"""Make a small int8 CNN with LOGISTIC, TANH and QUANTIZE (int8 -> int8) nodes (run with the
converter environment's python): input [1, 8, 8, 3] -> two Conv2D(6, 3x3) branches, one with a
sigmoid (LOGISTIC, output scale 1/256) and one with a tanh (TANH, output scale 1/128) ->
Concatenate on the channels (the converter requantizes a branch to the concatenation's scale:
QUANTIZE) -> Flatten -> Dense(16) -> tanh -> Dense(10), no softmax. Seeded; int8 input and
output.

    python make_activations_cnn.py OUT.tflite
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_int8  # noqa: E402  (beside this script)
import tensorflow as tf  # noqa: E402


def build() -> "tf.keras.Model":
    tf.keras.utils.set_random_seed(4321)
    inp = tf.keras.Input(shape=(8, 8, 3), batch_size=1, name="image")
    a = tf.keras.layers.Conv2D(6, 3, activation="sigmoid", name="conv_sigmoid")(inp)
    b = tf.keras.layers.Conv2D(6, 3, activation="tanh", name="conv_tanh")(inp)
    x = tf.keras.layers.Concatenate(axis=-1)([a, b])
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(16, activation="tanh", name="hidden")(x)
    out = tf.keras.layers.Dense(10, name="logits")(x)
    return tf.keras.Model(inp, out)


if __name__ == "__main__":
    keras_int8.write(build(), sys.argv[1])
