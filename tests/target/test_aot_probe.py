"""The build's probe of the ahead-of-time code (custom_tinyml_runtime = aot) on the emulated
Cortex-M4: every model's generated code runs on the env's core at build time, its golden
vectors (TFLM's interpreter on the host) bit-exact, its instructions per inference counted and
its arena the plan; a golden vector that the code does not reproduce (edited in the conversion
cache, or the generated code edited to compute something else) fails the build before the
firmware links, with one error naming the model, the vector and the fix. Needs the TFLM
sources."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.pio import run_pio
from helpers.targets import env_section, write_project

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]

MODELS = {
    "hello_world_int8.tflite": "tflm_hello_world/hello_world_int8.tflite",
    "kws_ref_model_int8.tflite": "mlperf_kws_dscnn/kws_ref_model_int8.tflite",
}
NAMES = [name.removesuffix(".tflite") for name in MODELS]
ENV = "m4"
CHECKED = re.compile(
    r"^TinyML: (\w+): ahead-of-time code on the emulated cortex-m4: arena ([\d,]+) B checked "
    r"\(the build's plan\); (\d+) golden vectors bit-exact with TFLM's interpreter; ([\d,]+) "
    r"instructions per inference",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> Path:
    root = tmp_path_factory.mktemp("aot-probe")
    models = {name: shared_models / path for name, path in MODELS.items()}
    project = write_project(
        root, models, [env_section(ENV, "mps2-an386", custom_tinyml_runtime="aot")]
    )
    (project / "src/main.cpp").write_text(
        "".join(f'#include "tinyml/{n}.h"\n' for n in NAMES)
        + '#include "tinyml/model.h"\n'
        + "".join(f"tinyml::Model<tinyml::{n}> m{i};\n" for i, n in enumerate(NAMES))
        + "int main() { return m0.begin() && m1.begin() ? 0 : 1; }\n"
    )
    return project


def _build(project: Path) -> Path:
    return project / ".pio/build" / ENV


def _errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Error:")]


def test_every_model_checked_on_the_emulated_core(project: Path) -> None:
    run = run_pio(["run", "-e", ENV], project, timeout=1800)
    out = run.stdout
    assert run.returncode == 0, out[-4000:]
    checked = {m.group(1): m for m in CHECKED.finditer(out)}
    assert sorted(checked) == sorted(NAMES), out[-4000:]
    result = json.loads((_build(project) / "tinyml-probe/result.json").read_text())
    assert result["runtime"] == "aot" and result["core"] == "cortex-m4"
    for name, line in checked.items():
        header = (_build(project) / "tinyml/tinyml" / f"{name}.h").read_text()
        plan = int(re.search(r"kAotArenaSize = (\d+);", header).group(1))  # type: ignore[union-attr]
        arena, vectors = int(line.group(2).replace(",", "")), int(line.group(3))
        instructions = int(line.group(4).replace(",", ""))
        assert arena == plan and vectors >= 1 and instructions > 0, line.group(0)
        measured = result["models"][name]
        assert (measured["arena"], measured["instructions"]) == (plan, instructions)
        assert 0 < measured["stack_bytes"] < 8192
        print(f"\n{line.group(0)}")
    assert (_build(project) / "firmware.elf").is_file()


def test_a_golden_vector_not_reproduced_fails_the_build(project: Path) -> None:
    """One output byte of kws's golden vector 1 changed in the conversion cache: the code's
    output no longer matches, and the build stops before the firmware links."""
    manifest = json.loads((_build(project) / "tinyml/manifest.json").read_text())
    (tflite,) = [m["tflite"] for m in manifest["models"] if m["name"] == "kws_ref_model_int8"]
    golden = Path(tflite).parent / "golden.json"
    original = golden.read_bytes()
    data = json.loads(original)
    output = data["vectors"][1]["output"]
    output[0] = output[0] + 1 if output[0] < 127 else output[0] - 1
    golden.write_text(json.dumps(data))
    (_build(project) / "firmware.elf").unlink()
    try:
        run = run_pio(["run", "-e", ENV], project, timeout=1800)
    finally:
        golden.write_bytes(original)
    out = run.stdout
    assert run.returncode != 0, out[-4000:]
    errors = _errors(out)
    assert len(errors) == 1, out[-4000:]
    assert errors[0].startswith(
        "Error: models/kws_ref_model_int8.tflite: its ahead-of-time code fails the build's "
        "check on the emulated cortex-m4 (env m4): golden vector 1 differs from TFLM's "
        "interpreter on the host: output byte 0"
    ), errors
    assert "custom_tinyml_runtime = tflm" in out and "tinyml-clean-cache" in out, out[-3000:]
    assert not (_build(project) / "firmware.elf").exists()


def test_generated_code_computing_otherwise_fails_then_passes_again(project: Path) -> None:
    """The generated hello_world code with its last node's output offset off by one (the
    firmware would compute that): the probe runs that code and fails on golden vector 0; the
    code restored, the build reuses the probe's earlier results."""
    source = _build(project) / "tinyml/tinyml/hello_world_int8_aot.cc"
    original = source.read_text()
    offsets = list(re.finditer(r"params\.output_offset = (-?\d+);", original))
    last = offsets[-1]
    wrong = f"params.output_offset = {int(last.group(1)) + 1};"
    source.write_text(original[: last.start()] + wrong + original[last.end() :])
    try:
        run = run_pio(["run", "-e", ENV], project, timeout=1800)
    finally:
        source.write_text(original)
    out = run.stdout
    assert run.returncode != 0, out[-4000:]
    errors = _errors(out)
    assert len(errors) == 1, out[-4000:]
    assert errors[0].startswith("Error: models/hello_world_int8.tflite: its ahead-of-time code")
    assert "golden vector 0 differs from TFLM's interpreter on the host" in errors[0], errors
    assert "Linking .pio/build/m4/firmware.elf" not in out

    again = run_pio(["run", "-e", ENV], project, timeout=1800)
    assert again.returncode == 0, again.stdout[-4000:]
    assert "probe: results of the emulated cortex-m4 reused (nothing changed)" in again.stdout
    assert len(CHECKED.findall(again.stdout)) == len(NAMES), again.stdout[-4000:]
