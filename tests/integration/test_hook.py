"""The pre-build hook through real `pio run` (offline): convert once, then nothing.

The converter environment is poisoned (pointed at a python that does not exist)
for every run that must not convert: if such a run tried to convert or import
an ML library, it would fail.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from helpers.pio import PLATFORMS_DIR, REPO_ROOT, run_pio
from helpers.targets import RUNNER

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("pio_ready")]

POISON = {"PIO_TINYML_CONVERTER_PYTHON": "/nonexistent/converter/bin/python"}
MAIN = r"""
#include <stdio.h>
#include "model_data.h"
int main() {
  printf("model %u bytes, arena %u, input scale %.6f zp %d, ops %d\n",
         model_quantized_tflite_len, (unsigned)tinyml::net::kArenaSize,
         (double)tinyml::net::kInputScale, (int)tinyml::net::kInputZeroPoint,
         tinyml::net::kOpCount);
  return 0;
}
"""


def _project(root: Path, model: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "src").mkdir()
    shutil.copyfile(model, root / "models" / "net.tflite")
    (root / "src" / "main.cpp").write_text(MAIN)
    (root / "src" / "other.cpp").write_text("int other() { return 1; }\n")
    envs = ""
    for name in ("host", "host2"):
        envs += textwrap.dedent(f"""
            [env:{name}]
            platform = symlink://{PLATFORMS_DIR}/host
            board = host
            lib_deps = symlink://{REPO_ROOT}
            custom_tinyml_runtime = none
            """)
    (root / "platformio.ini").write_text(envs)
    return root


def _small_project(root: Path, ini_extra: str, model: Path | None = None) -> Path:
    """One `host` env using the plugin; `model` copied into models/ when given."""
    (root / "src").mkdir(parents=True)
    (root / "src/main.cpp").write_text("int main() { return 0; }\n")
    if model is not None:
        (root / "models").mkdir()
        shutil.copyfile(model, root / "models" / model.name)
    (root / "platformio.ini").write_text(
        f"[env:host]\nplatform = symlink://{PLATFORMS_DIR}/host\nboard = host\n"
        f"lib_deps = symlink://{REPO_ROOT}\n{ini_extra}"
    )
    return root


def _compiled(output: str) -> list[str]:
    return re.findall(r"^Compiling (\S+)", output, flags=re.M)


def test_convert_once_then_nothing(tmp_path: Path, shared_models: Path) -> None:
    models = shared_models
    project = _project(
        tmp_path / "pröject with space", models / "tflm_hello_world/hello_world_int8.tflite"
    )

    first = run_pio(["run", "-e", "host", "-e", "host2"], project)
    assert first.returncode == 0, first.stdout
    assert first.stdout.count("net.tflite changed -> converting") == 1, first.stdout
    assert "net: 1 ops" in first.stdout
    for env in ("host", "host2"):
        generated = project / ".pio/build" / env / "tinyml"
        assert {p.name for p in generated.glob("tinyml/*")} >= {"net.h", "net.cc", "models.h"}
        assert (generated / "model_data.h").is_file()
    assert len([p for p in (project / ".pio/tinyml-cache").iterdir() if p.is_dir()]) == 1

    second = run_pio(["run", "-e", "host", "-t", "exec"], project, env=POISON)
    assert second.returncode == 0, second.stdout
    assert "TinyML: models up to date" in second.stdout
    assert _compiled(second.stdout) == []
    assert re.search(
        r"model 2704 bytes, arena \d+, input scale 0\.024480 zp -128, ops 1", second.stdout
    )

    os.utime(project / "models/net.tflite")  # touched, same bytes: nothing to do
    touched = run_pio(["run", "-e", "host"], project, env=POISON)
    assert touched.returncode == 0 and "models up to date" in touched.stdout, touched.stdout
    assert _compiled(touched.stdout) == []

    for target in (["-t", "clean"], ["-t", "idedata"]):
        quiet = run_pio(["run", "-e", "host", *target], project, env=POISON)
        assert quiet.returncode == 0, quiet.stdout
        assert "converting" not in quiet.stdout

    # new model bytes: convert again, recompile what includes the header, not other.cpp
    built = run_pio(["run", "-e", "host"], project)  # rebuild after clean
    assert built.returncode == 0, built.stdout
    shutil.copyfile(
        models / "tflm_micro_speech/micro_speech_quantized.tflite", project / "models/net.tflite"
    )
    changed = run_pio(["run", "-e", "host", "-t", "exec"], project)
    assert changed.returncode == 0, changed.stdout
    # The build names what changed since the model's last conversion.
    assert "models/net.tflite: the model file changed -> converting" in changed.stdout
    compiled = _compiled(changed.stdout)
    assert any(c.endswith("src/main.o") for c in compiled), compiled
    assert not any(c.endswith("src/other.o") for c in compiled), compiled
    assert "model 18800 bytes" in changed.stdout and "ops 4" in changed.stdout


def test_no_models_is_a_silent_no_op(tmp_path: Path) -> None:
    _small_project(tmp_path, "")
    result = run_pio(["run"], tmp_path, env=POISON)
    assert result.returncode == 0, result.stdout
    assert "TinyML" not in result.stdout and "Error" not in result.stdout


def test_unknown_option_is_one_error_line(tmp_path: Path) -> None:
    _small_project(tmp_path, "custom_tinyml_input_shap = 1, 2\n")
    result = run_pio(["run"], tmp_path, env=POISON)
    assert result.returncode != 0
    errors = [line for line in result.stdout.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: Unknown option `custom_tinyml_input_shap` in [env:host]."], (
        result.stdout
    )
    assert "Did you mean `custom_tinyml_input_shape`?" in result.stdout
    assert "Traceback" not in result.stdout


def test_model_over_the_boards_flash_fails_before_compiling(
    tmp_path: Path, shared_models: Path
) -> None:
    model = shared_models / "tflm_pytorch_mobilenetv2/mobilenet_v2_quantized_1x3x224x224.tflite"
    _small_project(tmp_path, "board_upload.maximum_size = 1048576\n", model)
    result = run_pio(["run"], tmp_path, env=POISON)
    assert result.returncode != 0
    errors = [line for line in result.stdout.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stdout
    assert "mobilenet_v2_quantized_1x3x224x224" in errors[0] and "board host" in errors[0]
    assert "3,980,776" in errors[0] and "1,048,576" in errors[0]
    assert "Compiling" not in result.stdout and "Traceback" not in result.stdout


def test_info_target_prints_the_layer_table(tmp_path: Path, shared_models: Path) -> None:
    model = shared_models / "mlperf_kws_dscnn/kws_ref_model_int8.tflite"
    _small_project(tmp_path, "custom_tinyml_runtime = none\n", model)
    result = run_pio(["run", "-t", "tinyml-info"], tmp_path)
    assert result.returncode == 0, result.stdout
    assert "Model kws_ref_model_int8  (from models/kws_ref_model_int8.tflite)" in result.stdout
    assert "CONV_2D x5" in result.stdout and "DEPTHWISE_CONV_2D x4" in result.stdout
    assert "MACs         2,656,768" in result.stdout
    assert re.search(r"RAM:\s+\[", result.stdout)
    html = tmp_path / ".pio/tinyml-reports/host/kws_ref_model_int8.html"
    assert "TinyML: HTML report .pio/tinyml-reports/host/kws_ref_model_int8.html" in result.stdout
    assert "<svg" in html.read_text() and "DEPTHWISE_CONV_2D" in html.read_text()
    assert "_info_action" not in result.stdout  # SCons does not announce the Python action
    assert html.stat().st_mode & 0o044 == 0o044  # readable by a browser or web server
    # A build after a change of platformio.ini (PlatformIO then deletes the build folder) keeps
    # the page.
    with (tmp_path / "platformio.ini").open("a") as fp:
        fp.write("custom_tinyml_arena_size = 200000\n")
    rebuilt = run_pio(["run"], tmp_path, env=POISON)
    assert rebuilt.returncode == 0, rebuilt.stdout
    header = tmp_path / ".pio/build/host/tinyml/tinyml/kws_ref_model_int8_arena.h"
    assert "kws_ref_model_int8 = 200000;" in header.read_text() and html.is_file()
    cleaned = run_pio(["run", "-t", "tinyml-clean"], tmp_path, env=POISON)
    assert cleaned.returncode == 0, cleaned.stdout
    assert "_clean_action" not in cleaned.stdout
    assert not (tmp_path / ".pio/build/host/tinyml").exists() and not html.exists()
    # The env's clean leaves the project's shared conversions; their own target removes them.
    assert any(p.is_dir() for p in (tmp_path / ".pio/tinyml-cache").iterdir())
    cleaned = run_pio(["run", "-t", "tinyml-clean-cache"], tmp_path, env=POISON)
    assert cleaned.returncode == 0, cleaned.stdout
    assert "TinyML: removed .pio/tinyml-cache" in cleaned.stdout
    assert not (tmp_path / ".pio/tinyml-cache").exists()


def test_golden_suite_written_once_and_left_alone(tmp_path: Path, shared_models: Path) -> None:
    """custom_tinyml_test_suite = auto: no suite in a project without test/; with one, the
    first build writes test/test_tinyml_golden/test_main.cpp; a suite file the user changed is
    never overwritten; `no` writes none."""
    _small_project(
        tmp_path,
        "test_framework = custom\n",  # no registry: Unity is not installed
        shared_models / "tflm_hello_world/hello_world_int8.tflite",
    )
    suite = tmp_path / "test/test_tinyml_golden/test_main.cpp"
    first = run_pio(["run", "-t", "tinyml-info"], tmp_path)
    assert first.returncode == 0, first.stdout
    assert not (tmp_path / "test").exists() and "wrote test/" not in first.stdout
    (tmp_path / "test").mkdir()
    (tmp_path / "test/test_custom_runner.py").write_text(RUNNER)
    second = run_pio(["run", "-t", "tinyml-info"], tmp_path, env=POISON)
    assert second.returncode == 0, second.stdout
    assert (
        "TinyML: wrote test/test_tinyml_golden/test_main.cpp: the golden vectors on the board "
        "with `pio test -e host -f test_tinyml_golden`" in second.stdout
    ), second.stdout
    assert '#include "tinyml/golden_suite.h"' in suite.read_text()
    suite_h = tmp_path / ".pio/build/host/tinyml/tinyml/golden_suite.h"
    assert "run_golden<hello_world_int8, hello_world_int8_golden>" in suite_h.read_text()
    suite.write_text("// mine\n")
    again = run_pio(["run", "-t", "tinyml-info"], tmp_path, env=POISON)
    assert again.returncode == 0 and "wrote test/" not in again.stdout, again.stdout
    assert suite.read_text() == "// mine\n"
    shutil.rmtree(tmp_path / "test/test_tinyml_golden")
    with (tmp_path / "platformio.ini").open("a") as fp:
        fp.write("custom_tinyml_test_suite = no\n")
    off = run_pio(["run", "-t", "tinyml-info"], tmp_path, env=POISON)
    assert off.returncode == 0, off.stdout
    assert not suite.exists()
