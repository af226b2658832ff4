"""The generated files of one env: per model header, source and golden vectors, the
seed-compatible model_data.h and the models index; written only when changed."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from .. import files
from ..analysis.facts import ModelFacts
from ..results import ConversionEntry
from . import model_files


def render_env_files(
    facts_list: Sequence[ModelFacts],
    entries: Sequence[ConversionEntry],
    gen_key: str,
) -> dict[str, str]:
    """Relative path -> text for every file of the env."""
    out: dict[str, str] = {}
    for facts, entry in zip(facts_list, entries):
        out[f"tinyml/{facts.name}.h"] = model_files.render_model_header(facts)
        out[f"tinyml/{facts.name}.cc"] = model_files.render_model_source(facts)
        if entry.golden_inputs:
            out[f"tinyml/{facts.name}_golden.h"] = model_files.render_golden_header(
                facts, entry.golden_inputs, entry.golden_outputs, entry.report.get("golden_source")
            )
        if facts.is_default:
            out["model_data.h"] = model_files.render_seed_header(facts)
    out["tinyml/models.h"] = model_files.render_models_index([f.name for f in facts_list], gen_key)
    return out


def write_generated(out_dir: Path, texts: Mapping[str, str]) -> list[str]:
    """Write changed files only; delete generated files no longer produced."""
    written = [
        name for name, text in sorted(texts.items()) if files.write_if_changed(out_dir / name, text)
    ]
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir).as_posix()
        if path.is_file() and path.suffix in (".h", ".cc") and rel not in texts:
            path.unlink()
    return written
