"""custom_tinyml_frontend: which PyTorch route runs, when `auto` falls back, what it refuses,
and what it changes in a model's conversion key."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformio_plugin import cache, errors
from platformio_plugin.config import BoardSpec, load_config
from platformio_plugin.convert.environment import CONVERTER, LITERT_TORCH, env_dir
from platformio_plugin.convert.frontends import (
    check_frontend,
    fallback_reason,
    torch_routes,
)

pytestmark = pytest.mark.unit
BOARD = BoardSpec("nucleo_f446re", "cortex-m4", "stm32f446ret6", 524288, 131072)


def test_routes_in_order() -> None:
    assert torch_routes("auto") == ("onnx2tf", "litert-torch")
    assert torch_routes("onnx2tf") == ("onnx2tf",)
    assert torch_routes("litert-torch") == ("litert-torch",)
    # LiteRT Torch keeps the model's layout: no fallback when channels-last was asked for.
    assert torch_routes("auto", "nchw") == ("onnx2tf",)
    assert torch_routes("auto", "keep") == ("onnx2tf", "litert-torch")


@pytest.mark.parametrize(
    ("error", "falls_back", "says"),
    [
        (errors.ConversionError("onnx2tf could not convert net.pth: Resize", "h"), True, "Resize"),
        (errors.AccuracyError("int8 lost 9.0 points", "h"), True, "max_accuracy_drop"),
        (errors.UnsupportedOpsError("net.pth", [("3", "GELU")]), True, "GELU (node 3)"),
        (
            errors.ProcessError("ONNX -> TensorFlow -> int8", ["python"], -11, "Segfault"),
            True,
            "crashed",
        ),
        # The user's to fix: every route would stop on them alike.
        (errors.ModelClassError("net.py has no class Net.", "h"), False, ""),
        (errors.CalibrationDataError("calibration.npy: 3 samples", "h"), False, ""),
        (errors.UntrustedModelError("net.pt holds pickled objects", "h"), False, ""),
        (errors.ConfigError("custom_tinyml_input_shape", "h"), False, ""),
        (errors.ConverterEnvironmentError("no network", "h"), False, ""),
    ],
)
def test_fallback_reason(error: errors.TinyMLError, falls_back: bool, says: str) -> None:
    reason = fallback_reason(error)
    assert (reason is not None) == falls_back
    if reason is not None:
        assert says in reason and "\n" not in reason


def test_check_frontend_refuses_what_cannot_act() -> None:
    check_frontend("auto", [".onnx"], "auto", "[env:e]")
    check_frontend("litert-torch", [".onnx", ".pth"], "auto", "[env:e]")  # applies to the .pth
    with pytest.raises(errors.ConfigError) as info:
        check_frontend("onnx2tf", [".onnx", ".tflite"], "auto", "[env:e]")
    text = info.value.render()
    assert "custom_tinyml_frontend = onnx2tf" in text and "[env:e]" in text and ".onnx" in text
    with pytest.raises(errors.ConfigError) as info:
        check_frontend("litert-torch", [".pt2"], "nchw", "[env:e]")
    assert "custom_tinyml_input_layout" in info.value.render()


def _project(tmp_path: Path) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    (models / "net.pth").write_bytes(b"weights")
    (models / "net.py").write_text("import torch.nn as nn\nclass Net(nn.Module):\n    pass\n")
    (models / "kws.onnx").write_bytes(b"model")
    return tmp_path


def _keys(project: Path, **options: str) -> dict[str, str]:
    raw = {f"custom_tinyml_{k}": v for k, v in options.items()}
    config = load_config(
        raw, env_name="e", project_dir=project, build_dir=project / ".pio/build/e", board=BOARD
    )
    return {spec.name: cache.conversion_key(spec, config) for spec in config.models}


def test_frontend_changes_the_key_of_pytorch_models_only(tmp_path: Path) -> None:
    project = _project(tmp_path)
    auto = _keys(project)
    onnx2tf = _keys(project, frontend="onnx2tf")
    litert = _keys(project, frontend="litert-torch")
    assert auto["kws"] == onnx2tf["kws"] == litert["kws"]
    assert len({auto["net"], onnx2tf["net"], litert["net"]}) == 3


def test_env_with_no_pytorch_model_refuses_the_option(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with pytest.raises(errors.ConfigError) as info:
        _keys(project, models="models/kws.onnx", frontend="litert-torch")
    assert "[env:e]" in info.value.render() and "PyTorch" in info.value.render()


def test_each_environment_has_its_own_folder(tmp_path: Path) -> None:
    converter, litert = env_dir(tmp_path, CONVERTER), env_dir(tmp_path, LITERT_TORCH)
    assert converter.parent == litert.parent == tmp_path / "tinyml"
    assert converter.name.startswith("converter-") and litert.name.startswith("litert-torch-")
    pins = LITERT_TORCH.requirements.read_text().splitlines()
    # Exact pins only; torch as the converter pins it (a bare `torch` would pull CUDA wheels).
    assert all("==" in line for line in pins if line and not line.startswith("#"))
    assert "torch==2.13.0" in pins and "torch==2.13.0" in CONVERTER.requirements.read_text()
