"""Concatenations wider than TFLite Micro's kernel takes (10 inputs).

An int8 .tflite given as it is with such a concatenation is refused with TFLM's own words,
naming the node and the op, and the fix. (A PyTorch net joining 12 or 26 slices converts into a
tree of concatenations TFLM takes: tests/target/test_conversion_breadth.py runs it on the
emulated M4.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.convert import run_cli, run_converter_script

pytestmark = pytest.mark.convert

WIDE_TFLITE = """\
import json, sys
import numpy as np
import tensorflow as tf

inp = tf.keras.Input((16,))
parts = [tf.keras.layers.Dense(2)(inp) for _ in range(12)]
model = tf.keras.Model(inp, tf.keras.layers.Concatenate()(parts))
def representative():
    for x in np.random.default_rng(0).random((20, 1, 16), dtype=np.float32):
        yield [x]
converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
converter.representative_dataset = representative
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
converter.inference_input_type = tf.int8
converter.inference_output_type = tf.int8
open(sys.argv[1], "wb").write(converter.convert())
print(json.dumps("ok"))
"""


def test_int8_tflite_with_a_wide_concatenation_is_refused_naming_node_and_op(
    tmp_path: Path, converter_python: Path
) -> None:
    model = tmp_path / "wide.tflite"
    run_converter_script(converter_python, WIDE_TFLITE, model)
    proc = run_cli("convert", model, "--out", tmp_path / "out")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("Error: wide.tflite: TFLite Micro rejects node "), first
    assert "(CONCATENATION) when it prepares the model" in first, first
    assert "kMaxInputNum" in first, first
    assert "joins at most 10 tensors" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()
