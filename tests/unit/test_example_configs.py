"""The examples' platformio.ini files, with PlatformIO's own ProjectConfig and the plugin's
option parser: every env is valid, lists the plugin, and the real boards are real platforms
(they cannot build here; tests/integration/test_examples.py runs the emulated env)."""

from __future__ import annotations

import pytest
from helpers.pio import EXAMPLES_DIR

from platformio_plugin.options import parse_options

pytestmark = pytest.mark.unit

LOCAL_PLATFORMS = "symlink://../../platforms/"
PLUGIN = "symlink://../.."  # the repository root, as the examples list the plugin
EXAMPLES = ("mnist-pytorch", "person-detection-tflite", "sine-onnx")
# Real boards of mnist-pytorch: one per kernel path (Cortex-M4/M7 CMSIS-NN with DSP,
# Cortex-M0+ portable C, ESP32 reference kernels).
MNIST_BOARDS = {"nucleo_f446re", "nano33ble", "teensy41", "pico", "esp32dev"}


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_ini_is_valid_platformio_configuration(example: str) -> None:
    from platformio.project.config import ProjectConfig

    ini = EXAMPLES_DIR / example / "platformio.ini"
    config = ProjectConfig(str(ini), parse_extra=False)
    assert config.validate(silent=True)
    envs = config.envs()
    assert {"mps2-an386", "host"} <= set(envs)
    real = [
        env for env in envs if not config.get(f"env:{env}", "platform").startswith(LOCAL_PLATFORMS)
    ]
    assert real, f"{example} shows no real board"
    for env in envs:
        section = f"env:{env}"
        for option in ("platform", "board", "lib_deps"):
            assert config.get(section, option), f"[{section}] has no {option}"
        assert config.get(section, "lib_deps") == [PLUGIN]
        tinyml = {
            k: v
            for k, v in config.items(section, as_dict=True).items()
            if k.startswith("custom_tinyml_")
        }
        parse_options(tinyml, env)  # raises ConfigError on a typo or a bad value
        if env in real:
            assert not config.get(section, "platform").startswith("symlink://")
            assert config.get(section, "framework") == ["arduino"], section
    if example == "mnist-pytorch":
        assert set(real) == MNIST_BOARDS
