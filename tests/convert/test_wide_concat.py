"""Concatenations wider than TFLite Micro's kernel takes (10 inputs).

A PyTorch net that joins 12 or 26 slices with one torch.cat converts: the int8 model's wide
CONCATENATION is split into a tree of at most 10 inputs each, which TFLM runs with the same
results (int8 vs float as good as any). An int8 .tflite given as it is with such a concatenation
is refused with TFLM's own words, naming the node and the op, and the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.convert import DATA, convert_json, run_cli, run_converter_script

from platformio_plugin.analysis.layers import op_name
from platformio_plugin.analysis.tflite_reader import parse_tflite

pytestmark = pytest.mark.convert

MAKE_NETS = """\
import json, sys
import numpy as np
import torch
sys.path.insert(0, sys.argv[2])
from slice_net import SliceNet

out = sys.argv[1]
torch.manual_seed(0)
for parts in (12, 26):
    torch.save(SliceNet(parts).state_dict(), f"{out}/slice{parts}.pth")
np.save(f"{out}/calib.npy", np.random.default_rng(0).random((100, 1, 8, 8), dtype=np.float32))
print(json.dumps("ok"))
"""

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


@pytest.fixture(scope="module")
def nets(tmp_path_factory: pytest.TempPathFactory, converter_python: Path) -> Path:
    out = tmp_path_factory.mktemp("slice-nets")
    run_converter_script(converter_python, MAKE_NETS, out, DATA)
    return out


@pytest.mark.parametrize("parts", [12, 26])
def test_wide_torch_cat_converts_into_concatenations_tflm_takes(
    tmp_path: Path, nets: Path, parts: int
) -> None:
    result = convert_json(
        nets / f"slice{parts}.pth", "--model-class", f"{DATA / 'slice_net.py'}:SliceNet",
        "--model-kwargs", f'{{"parts": {parts}}}', "--input-shape", "1,1,8,8",
        "--calibration", nets / "calib.npy", "--out", tmp_path / "out",
    )  # fmt: skip
    model = parse_tflite((tmp_path / "out/model_int8.tflite").read_bytes())
    concats = [o for o in model.operators if op_name(o) == "CONCATENATION"]
    widths = sorted(len(o.inputs) for o in concats)
    assert len(concats) >= 2 and max(widths) <= 10, widths
    assert sum(widths) == parts + len(concats) - 1, widths  # a tree over the `parts` slices
    assert result["report"]["top1_agreement"] >= 95.0, result["report"]


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
