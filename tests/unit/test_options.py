"""The option table: parsing, validation messages, suggestions."""

from __future__ import annotations

import pytest

from platformio_plugin.errors import ConfigError
from platformio_plugin.options import (
    OPTIONS,
    Options,
    fields_match_table,
    parse_options,
    render_options_table,
)

pytestmark = pytest.mark.unit


def test_defaults_when_nothing_given() -> None:
    values = parse_options({"build_flags": "-O2"}, "env1")
    assert values == Options.defaults()
    assert all(getattr(values, opt.name) == opt.default for opt in OPTIONS)


def test_options_fields_are_the_table_rows() -> None:
    assert fields_match_table(), "Options' fields and the OPTIONS rows differ (name or order)"


def test_typed_values() -> None:
    values = parse_options(
        {
            "custom_tinyml_input_shape": "1, 1, 28, 28",
            "custom_tinyml_models": "models/a.onnx\nmodels/b.tflite",
            "custom_tinyml_trust_pickle": "yes",
            "custom_tinyml_max_accuracy_drop": "1.5",
            "custom_tinyml_model_kwargs": '{"n": 3}',
            "custom_tinyml_kernels": "Reference",
            "custom_tinyml_kernel_optimization": "-o3",
        },
        "env1",
    )
    assert values.input_shape == (1, 1, 28, 28)
    assert values.models == ("models/a.onnx", "models/b.tflite")
    assert values.trust_pickle is True
    assert values.max_accuracy_drop == 1.5
    assert values.model_kwargs == {"n": 3}
    assert values.kernels == "reference"
    assert values.kernel_optimization == "-O3"


def test_unknown_key_gets_a_suggestion() -> None:
    with pytest.raises(ConfigError) as info:
        parse_options({"custom_tinyml_calibraton": "x.npy"}, "nucleo")
    text = info.value.render()
    assert "custom_tinyml_calibraton" in text and "[env:nucleo]" in text
    assert "Did you mean `custom_tinyml_calibration`?" in text


BAD_VALUES = [
    ("custom_tinyml_input_shape", "1, x, 28"),
    ("custom_tinyml_input_shape", "1, 0, 28"),
    ("custom_tinyml_trust_pickle", "maybe"),
    ("custom_tinyml_max_accuracy_drop", "-1"),
    ("custom_tinyml_max_accuracy_drop", "lots"),
    ("custom_tinyml_model_kwargs", "[1, 2]"),
    ("custom_tinyml_model_kwargs", "{bad json"),
    ("custom_tinyml_model_class", "net.py"),
    ("custom_tinyml_kernels", "fast"),
    ("custom_tinyml_runtime", "tvm"),
    ("custom_tinyml_aot_in_place", "yes"),
    ("custom_tinyml_probe", "always"),
    ("custom_tinyml_input_layout", "nhwc"),
    ("custom_tinyml_frontend", "ai-edge-torch"),
    ("custom_tinyml_golden_vectors", "0"),
    ("custom_tinyml_test_suite", "sometimes"),
    ("custom_tinyml_min_calibration_samples", "ten"),
    ("custom_tinyml_arena_size", "-5"),
    ("custom_tinyml_kernel_optimization", "-O9"),
    ("custom_tinyml_allow_sources_mismatch", "perhaps"),
    ("custom_tinyml_library_flags", '-DNAME="unclosed'),
    ("custom_tinyml_library_flags", "-DX=1 -O3"),
    ("custom_tinyml_runtime_ram", "1.5"),
    ("custom_tinyml_runtime_flash", "big"),
]


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_bad_value_names_option_value_and_example(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_options({key: value}, "e")
    text = info.value.render()
    assert key in text and repr(value) in text and "for example" in text


def test_every_typed_option_has_a_bad_value_case() -> None:
    """Keeps the parametrized list above honest when an option is added."""
    typed = {o.key for o in OPTIONS if o.type_name not in ("path", "list of paths")}
    covered = {key for key, _ in BAD_VALUES}
    assert typed <= covered


def test_table_lists_every_option() -> None:
    table = render_options_table()
    for opt in OPTIONS:
        assert f"`{opt.key}`" in table
