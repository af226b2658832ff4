"""Generated files for real models match committed golden files byte for byte,
and the arena written into them is what TFLM needs (checked with TFLM's own
Python interpreter at the written size and just below it).

Set PIO_TINYML_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from platformio_plugin import pipeline
from platformio_plugin.analysis.arena import target_arena
from platformio_plugin.config import BoardSpec, load_config
from platformio_plugin.convert.environment import default_core_dir, ensure_converter_python

pytestmark = [pytest.mark.golden, pytest.mark.convert]

GOLDEN = Path(__file__).parent
BOARD = BoardSpec("mps2-an386", "cortex-m4", "an386", 4194304, 4194304)
CASES = {
    "hello_world": "tflm_hello_world/hello_world_int8.tflite",
    "kws": "mlperf_kws_dscnn/kws_ref_model_int8.tflite",
    "person_detect": "tflm_person_detection/person_detect.tflite",
}


def _prepare(tmp_path: Path, name: str, models: Path) -> pipeline.PreparedEnv:
    project = tmp_path / name
    (project / "models").mkdir(parents=True)
    shutil.copyfile(models / CASES[name], project / "models" / f"{name}.tflite")
    config = load_config(
        {},
        env_name="an386",
        project_dir=project,
        build_dir=project / ".pio/build/an386",
        board=BOARD,
    )
    return pipeline.prepare_env(
        config, kernels="cmsis-nn", core_dir=default_core_dir(), log=lambda _line: None
    )


@pytest.mark.parametrize("name", ["hello_world", "kws"])
def test_generated_files_match_golden(tmp_path: Path, name: str, shared_models: Path) -> None:
    prepared = _prepare(tmp_path, name, shared_models)
    produced = {
        p.relative_to(prepared.generated_dir).as_posix(): p.read_bytes()
        for p in sorted(prepared.generated_dir.rglob("*"))
        if p.suffix in (".h", ".cc")
    }
    expected_dir = GOLDEN / name
    if os.environ.get("PIO_TINYML_UPDATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        for rel, data in produced.items():
            (expected_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / rel).write_bytes(data)
    expected = {
        p.relative_to(expected_dir).as_posix(): p.read_bytes()
        for p in sorted(expected_dir.rglob("*"))
        if p.is_file()
    }
    assert sorted(produced) == sorted(expected)
    for rel, data in produced.items():
        assert data == expected[rel], f"{rel} differs from tests/golden/{name}/{rel}"


PROBE = """
import sys
from tflite_micro.python.tflite_micro import runtime
model = open(sys.argv[1], "rb").read()
interpreter = runtime.Interpreter.from_bytes(model, arena_size=int(sys.argv[2]))
interpreter.invoke()
print("ok")
"""


def _runs_with(python: Path, model: Path, arena: int) -> bool:
    result = subprocess.run(
        [str(python), "-c", PROBE, str(model), str(arena)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip().endswith("ok")


@pytest.mark.parametrize("name", ["hello_world", "kws", "person_detect"])
def test_arena_is_enough_and_within_two_percent(
    tmp_path: Path, name: str, shared_models: Path
) -> None:
    prepared = _prepare(tmp_path, name, shared_models)
    model = prepared.models[0]
    header = (prepared.generated_dir / "tinyml" / f"{name}.h").read_text()
    assert f"kArenaSize = {model.arena};" in header
    python = ensure_converter_python(default_core_dir(), lambda _line: None)
    # the host figure is the exact minimum of TFLM's 64-bit interpreter ...
    assert _runs_with(python, model.tflite, model.arena_host)
    assert not _runs_with(python, model.tflite, model.arena_host - 16)
    # ... and the 32-bit target's size is that minus the pointer records' savings
    summary = json.loads((model.tflite.parent / "result.json").read_text())
    assert summary["arena_bytes_host"] == model.arena_host
    breakdown = summary["report"]["arena_breakdown"]
    assert breakdown["kinds"]["TfLiteEvalTensor data"]["count"] > 0
    assert model.arena == target_arena(model.arena_host, breakdown, 32) < model.arena_host
