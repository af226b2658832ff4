"""Full-int8 conversion of a small Keras model made by a make_<name>.py script of this folder
(run with the converter environment's python): 100 seeded uniform [-1, 1) calibration inputs
of the model's input shape, int8 input and output, as TFLiteConverter does it for users."""

import numpy as np
import tensorflow as tf


def convert(model: "tf.keras.Model") -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(42)
    shape = tuple(model.input_shape)

    def representative():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield [rng.uniform(-1.0, 1.0, shape).astype(np.float32)]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def write(model: "tf.keras.Model", path: str) -> None:
    with open(path, "wb") as out:
        out.write(convert(model))
