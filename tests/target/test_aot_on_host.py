"""The ahead-of-time runtime on a board without CMSIS-NN: the project's host dev-platform
(x86-64, the system's g++), where the plugin picks TFLM's reference kernels and the generated
code calls them (no interpreter, no CMSIS-NN). TFLM's hello_world, micro_speech and person
detection and MLPerf Tiny's KWS DS-CNN and AD autoencoder run their golden vectors (TFLM's
Python interpreter on the host) bit-exact. Needs the TFLM sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.host_project import env_section, make_project, run

pytestmark = [
    pytest.mark.target,
    pytest.mark.usefixtures("pio_ready", "sources_root"),
    pytest.mark.skipif(shutil.which("g++") is None, reason="needs the system g++"),
]

MODELS = {
    "hello_world_int8": "tflm_hello_world/hello_world_int8.tflite",
    "micro_speech_quantized": "tflm_micro_speech/micro_speech_quantized.tflite",
    "person_detect": "tflm_person_detection/person_detect.tflite",
    "kws_ref_model_int8": "mlperf_kws_dscnn/kws_ref_model_int8.tflite",
    "ad01_int8": "mlperf_ad_autoencoder/ad01_int8.tflite",
}
MAIN = """\
#include "tinyml/golden_suite.h"

int main() { return tinyml::run_all_golden() == 0 ? 0 : 1; }
"""


def test_golden_vectors_bit_exact_with_reference_kernels_on_the_host(
    tmp_path: Path, shared_models: Path
) -> None:
    project = make_project(tmp_path / "host-aot", [env_section("host", runtime="aot")])
    (project / "models").mkdir()
    for name, rel in MODELS.items():
        shutil.copyfile(shared_models / rel, project / "models" / f"{name}.tflite")
    (project / "src" / "main.cpp").write_text(MAIN)

    result = run(project, "host", args=["-t", "exec"], timeout=1800)
    out = result.stdout
    assert result.returncode == 0, out[-6000:]
    assert "TFLite Micro's reference kernels for the ahead-of-time code: 4 sources" in out, out
    for name in MODELS:
        assert f"PASS {name}" in out, out[-4000:]
        generated = project / ".pio/build/host/tinyml/tinyml" / f"{name}_aot.cc"
        source = generated.read_text()
        assert "reference_integer_ops::" in source or "reference_ops::" in source
        assert "arm_" not in source
    assert "FAIL" not in out
    # the interpreter is not built: no TFLM runtime object in the build folder
    objects = {p.name for p in (project / ".pio/build/host").rglob("*.o")}
    assert "micro_interpreter.o" not in objects and "common.o" in objects, sorted(objects)
