"""Seed stage 3: onnx2tf's SavedModel -> full-int8 .tflite with TFLiteConverter.

python quantize.py SAVED_MODEL_DIR CALIBRATION_NCHW.npy OUT.tflite
"""

import sys

import numpy as np
import tensorflow as tf


def main() -> None:
    saved_model, calibration, out = sys.argv[1:4]
    samples = np.load(calibration).astype(np.float32)
    samples = np.moveaxis(samples, 1, -1)  # onnx2tf makes the model channels-last

    def representative():
        for s in samples:
            yield [s[None, ...]]

    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with open(out, "wb") as fp:
        fp.write(converter.convert())


if __name__ == "__main__":
    main()
