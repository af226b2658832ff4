"""Model discovery, sidecar files, class detection and config errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformio_plugin.config import BoardSpec, board_spec, c_identifier, load_config
from platformio_plugin.errors import ConfigError, ModelFileError

pytestmark = pytest.mark.unit
BOARD = BoardSpec("nucleo_f446re", "cortex-m4", "stm32f446ret6", 524288, 131072)


def _load(project: Path, **options: str):  # type: ignore[no-untyped-def]
    raw = {f"custom_tinyml_{k}": v for k, v in options.items()}
    return load_config(
        raw, env_name="e", project_dir=project, build_dir=project / ".pio/build/e", board=BOARD
    )


def test_models_folder_and_sidecars(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "edge-model.pth").write_bytes(b"x")
    (models / "edge-model.py").write_text(
        "import torch.nn as nn\nclass Helper:\n    pass\nclass Net(nn.Module):\n    pass\n"
    )
    (models / "calibration.npy").write_bytes(b"x")
    (models / "edge-model.labels.txt").write_text("zero\none\n\n")
    (models / "kws.onnx").write_bytes(b"x")
    (models / "notes.txt").write_text("not a model")
    config = _load(tmp_path)
    names = [m.name for m in config.models]
    assert names == ["edge_model", "kws"]
    edge = config.models[0]
    assert edge.model_class == f"{models / 'edge-model.py'}:Net"
    assert edge.calibration == models / "calibration.npy"
    assert edge.labels == ("zero", "one")
    assert config.models[1].model_class is None
    assert config.generated_dir == tmp_path / ".pio/build/e/tinyml"


def test_no_models_no_options_is_empty(tmp_path: Path) -> None:
    assert _load(tmp_path).models == ()


def test_named_model_missing(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as info:
        _load(tmp_path, models="models/none.onnx")
    assert "models/none.onnx" in info.value.render() and "[env:e]" in info.value.render()


def test_tensorflow_graph_says_what_is_supported(tmp_path: Path) -> None:
    (tmp_path / "m.pb").write_bytes(b"x")
    with pytest.raises(ModelFileError) as info:
        _load(tmp_path, models="m.pb")
    text = info.value.render()
    assert "TensorFlow graph" in text and ".onnx" in text and ".pth" in text and ".keras" in text


def test_two_classes_need_the_option(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models/m.pth").write_bytes(b"x")
    (tmp_path / "models/m.py").write_text(
        "from torch import nn\nclass A(nn.Module): pass\nclass B(nn.Module): pass\n"
    )
    with pytest.raises(ConfigError) as info:
        _load(tmp_path)
    assert "custom_tinyml_model_class" in info.value.render() and "A, B" in info.value.render()


def test_class_file_with_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models/m.pth").write_bytes(b"x")
    (tmp_path / "models/m.py").write_text("class A(nn.Module)\n  pass\n")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path)
    assert "m.py has a syntax error at line 1" in info.value.render()


def test_explicit_paths_with_spaces_and_unicode(tmp_path: Path) -> None:
    folder = tmp_path / "mödels dir"
    folder.mkdir()
    (folder / "nét.onnx").write_bytes(b"x")
    (folder / "cal data.npz").write_bytes(b"x")
    config = _load(tmp_path, models="mödels dir/nét.onnx", calibration="mödels dir/cal data.npz")
    assert config.models[0].name == "n_t"
    assert config.models[0].calibration == folder / "cal data.npz"


def test_option_path_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models/m.onnx").write_bytes(b"x")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, calibration="data/missing.npy")
    assert "custom_tinyml_calibration" in info.value.render()


def test_names_that_collide_in_cpp(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models/a-b.onnx").write_bytes(b"x")
    (tmp_path / "models/a_b.tflite").write_bytes(b"x")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path)
    assert "both become `a_b`" in info.value.render()


@pytest.mark.parametrize(
    ("stem", "expect"),
    [
        ("class", "`class` is a C++ keyword"),
        ("model", "a name of the runtime"),
        ("models", "a name of the runtime"),
        ("golden", "a name of the runtime"),
        ("---", "no letter or digit"),
    ],
)
def test_names_that_cannot_be_cpp(tmp_path: Path, stem: str, expect: str) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / f"{stem}.onnx").write_bytes(b"x")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path)
    text = info.value.render()
    assert f"{stem}.onnx" in text and expect in text and "Rename the file" in text


def test_names_differing_only_in_case_collide(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models/Net.onnx").write_bytes(b"x")
    (tmp_path / "models/net.tflite").write_bytes(b"x")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path)
    assert "differ only in case" in info.value.render()


def test_identifiers() -> None:
    assert c_identifier("9lives") == "m_9lives"
    assert c_identifier("Person-Detect") == "Person_Detect"  # the stem as written
    assert c_identifier("pretrainedResnet_quant") == "pretrainedResnet_quant"


def test_board_spec_from_manifest() -> None:
    spec = board_spec(
        "pico",
        {
            "build": {"cpu": "cortex-m0plus", "mcu": "rp2040"},
            "upload": {"maximum_size": 2097152, "maximum_ram_size": 262144},
        },
    )
    assert spec == BoardSpec("pico", "cortex-m0plus", "rp2040", 2097152, 262144)


def test_a_new_conversion_names_what_changed_since_the_last(tmp_path: Path) -> None:
    """The build says which input of a model changed, from the stamp of its last conversion."""
    from platformio_plugin import cache

    models = tmp_path / "models"
    models.mkdir()
    (models / "kws.onnx").write_bytes(b"model")
    (models / "kws.calibration.npy").write_bytes(b"first")
    config = _load(tmp_path)
    about = cache.conversion_about(config.models[0], config)
    assert cache.what_changed(config, about) == []  # never converted: nothing to compare
    entry = cache.entry_dir(config, cache.conversion_key(config.models[0], config))
    entry.mkdir(parents=True)
    cache.write_stamp(entry, "k", about)

    (models / "kws.calibration.npy").write_bytes(b"second")
    again = _load(tmp_path, input_layout="keep")
    changed = cache.what_changed(again, cache.conversion_about(again.models[0], again))
    assert changed == ["the calibration data", "custom_tinyml_input_layout"]
    (models / "kws.calibration.npy").write_bytes(b"first")
    assert cache.what_changed(config, cache.conversion_about(config.models[0], config)) == []


def test_a_savedmodel_folder_in_models_is_a_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "gesture/variables").mkdir(parents=True)
    (models / "gesture/saved_model.pb").write_bytes(b"x")
    (models / "calibration").mkdir()  # an image folder: not a model
    (models / "gesture.calibration.npy").write_bytes(b"x")
    config = _load(tmp_path)
    assert [(m.name, m.fmt) for m in config.models] == [("gesture", "saved_model")]
    assert config.models[0].calibration == models / "gesture.calibration.npy"
    listed = _load(tmp_path, models="models/gesture")
    assert listed.models[0].path == models / "gesture"
