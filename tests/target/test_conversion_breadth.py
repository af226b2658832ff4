"""Models made here that the first converter release could not run, built into one project for
the emulated Cortex-M4: each converts, TFLite Micro loads it, and the build's probe runs its
golden vectors on the emulated core bit-exact with the host's TFLM.

- slice12 / slice26 (.pt2): torch.cat of 12 and 26 slices, wider than TFLM's CONCATENATION;
- gru (.pt2): a PyTorch GRU over 8 MFCC frames (onnx2tf's while loop is unrolled);
- seq_mlp (.onnx, Keras-origin [N, 130, 13]): the device input stays {1, 130, 13};
- nhwc_cnn (.onnx, tf2onnx's Transpose before a Conv): the device input stays {1, 12, 12, 3}.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.convert import DATA, run_converter_script
from helpers.pio import run_pio
from helpers.targets import env_section, write_project

from platformio_plugin.analysis.layers import op_name
from platformio_plugin.analysis.tflite_reader import parse_tflite

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]

MAKE_TORCH = """\
import json, sys
import numpy as np
import torch
sys.path.insert(0, sys.argv[2])
from gru_net import GruNet
from slice_net import SliceNet

out = sys.argv[1]
rng = np.random.default_rng(0)
torch.manual_seed(0)
for parts in (12, 26):
    program = torch.export.export(SliceNet(parts).eval(), (torch.zeros(1, 1, 8, 8),))
    torch.export.save(program, f"{out}/slice{parts}.pt2")
    np.save(f"{out}/slice{parts}.calibration.npy", rng.random((60, 1, 8, 8), dtype=np.float32))
program = torch.export.export(GruNet().eval(), (torch.zeros(1, 8, 13),))
torch.export.save(program, f"{out}/gru.pt2")
np.save(f"{out}/gru.calibration.npy", rng.standard_normal((60, 8, 13)).astype(np.float32))
print(json.dumps("ok"))
"""
MODELS = ("slice12", "slice26", "gru", "seq_mlp", "nhwc_cnn")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, converter_python: Path) -> tuple[Path, str]:
    made = tmp_path_factory.mktemp("made")
    run_converter_script(converter_python, MAKE_TORCH, made, DATA)
    run_converter_script(converter_python, (DATA / "make_channels_last_onnx.py").read_text(), made)
    files = {p.name: p for p in made.iterdir() if p.suffix in (".pt2", ".onnx", ".npy")}
    assert sorted(files) == sorted(
        [f"{m}{s}" for m in MODELS for s in (".calibration.npy",)]
        + ["slice12.pt2", "slice26.pt2", "gru.pt2", "seq_mlp.onnx", "nhwc_cnn.onnx"]
    )
    project = write_project(
        tmp_path_factory.mktemp("breadth"), files, [env_section("m4", "mps2-an386")]
    )
    result = run_pio(["run", "-e", "m4"], project, timeout=3600)
    assert result.returncode == 0, result.stdout[-6000:]
    return project, result.stdout


def _converted(project: Path, name: str) -> bytes:
    for report in (project / ".pio/tinyml-cache").glob("*/report.json"):
        if Path(json.loads(report.read_text())["model"]).stem == name:
            return (report.parent / "model_int8.tflite").read_bytes()
    raise AssertionError(f"no conversion of {name} in the project's cache")


@pytest.mark.parametrize("name", MODELS)
def test_runs_bit_exact_on_the_emulated_m4(built: tuple[Path, str], name: str) -> None:
    _project, out = built
    found = re.search(
        rf"TinyML: {name}: arena [\d,]+ B measured on the emulated cortex-m4 .*; "
        r"(\d+) golden vectors bit-exact",
        out,
    )
    assert found and int(found.group(1)) == 4, out[-6000:]


@pytest.mark.parametrize("parts", [12, 26])
def test_wide_torch_cat_becomes_a_tree_tflm_takes(built: tuple[Path, str], parts: int) -> None:
    model = parse_tflite(_converted(built[0], f"slice{parts}"))
    widths = sorted(len(o.inputs) for o in model.operators if op_name(o) == "CONCATENATION")
    assert len(widths) >= 2 and max(widths) <= 10, widths
    assert sum(widths) == parts + len(widths) - 1, widths  # a tree over the `parts` slices


@pytest.mark.parametrize(
    ("name", "dims", "log"),
    [
        ("seq_mlp", "{1, 130, 13}", "input (1, 130, 13) kept, feeds MatMul"),
        ("nhwc_cnn", "{1, 12, 12, 3}", "input (1, 12, 12, 3) kept, feeds Transpose"),
        ("gru", "{1, 8, 13}", "input (1, 8, 13) kept"),
        ("slice26", "{1, 1, 8, 8}", "input (1, 1, 8, 8) kept"),
    ],
)
def test_the_device_input_keeps_the_models_layout(
    built: tuple[Path, str], name: str, dims: str, log: str
) -> None:
    project, out = built
    header = (project / f".pio/build/m4/tinyml/tinyml/{name}.h").read_text()
    assert f"kInputDims[{dims.count(',') + 1}] = {dims};" in header, header
    assert log in out, out[-6000:]
    ops = {op_name(o) for o in parse_tflite(_converted(project, name)).operators}
    assert "TRANSPOSE" not in ops, ops
