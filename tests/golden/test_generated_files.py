"""Generated files for real models match committed golden files byte for byte.

Pure codegen: the inputs are the model (shared/models) and the facts its conversion measured
(`tests/golden/<name>/conversion.json`: the host arena, its breakdown, the input layout and the
golden vectors), so this tier needs no converter; tests/convert/test_host_arena.py checks those
facts against the converter.

Set PIO_TINYML_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from platformio_plugin import cache
from platformio_plugin.analysis import facts
from platformio_plugin.codegen import env_files
from platformio_plugin.config import BoardSpec, load_config
from platformio_plugin.results import ConversionEntry

pytestmark = pytest.mark.golden

GOLDEN = Path(__file__).parent
BOARD = BoardSpec("mps2-an386", "cortex-m4", "an386", 4194304, 4194304)
CASES = {
    "hello_world": "tflm_hello_world/hello_world_int8.tflite",
    "kws": "mlperf_kws_dscnn/kws_ref_model_int8.tflite",
}


def _render(tmp_path: Path, name: str, models: Path) -> dict[str, bytes]:
    """What the pipeline writes for the model, from the committed conversion facts."""
    project = tmp_path / name
    (project / "models").mkdir(parents=True)
    tflite = project / "models" / f"{name}.tflite"
    shutil.copyfile(models / CASES[name], tflite)
    config = load_config(
        {}, env_name="an386", project_dir=project, build_dir=project / ".pio/build/an386",
        board=BOARD,
    )  # fmt: skip
    measured = json.loads((GOLDEN / name / "conversion.json").read_text())
    vectors = measured["vectors"]
    entry = ConversionEntry(
        folder=project,
        tflite=tflite,
        data=tflite.read_bytes(),
        report=measured["report"],
        golden_inputs=tuple(bytes(v & 0xFF for v in vec["input"]) for vec in vectors),
        golden_outputs=tuple(bytes(v & 0xFF for v in vec["output"]) for vec in vectors),
    )
    spec = config.models[0]
    key = cache.conversion_key(spec, config)
    model = facts.model_facts(spec, entry, key, config, default=True)
    texts = env_files.render_env_files([model], [entry], cache.generation_key(config, [key]))
    return {rel: text.encode("utf-8") for rel, text in texts.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_files_match_golden(tmp_path: Path, name: str, shared_models: Path) -> None:
    produced = _render(tmp_path, name, shared_models)
    expected_dir = GOLDEN / name
    if os.environ.get("PIO_TINYML_UPDATE_GOLDEN"):
        for old in expected_dir.rglob("*"):
            if old.is_file() and old.suffix in (".h", ".cc"):
                old.unlink()
        for rel, data in produced.items():
            (expected_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / rel).write_bytes(data)
    expected = {
        p.relative_to(expected_dir).as_posix(): p.read_bytes()
        for p in sorted(expected_dir.rglob("*"))
        if p.is_file() and p.suffix in (".h", ".cc")
    }
    assert sorted(produced) == sorted(expected)
    for rel, data in produced.items():
        assert data == expected[rel], f"{rel} differs from tests/golden/{name}/{rel}"
