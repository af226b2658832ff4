"""The generated files of one env: per model header, source and golden vectors, the
seed-compatible model_data.h and the models index; written only when changed."""

from __future__ import annotations

from pathlib import Path
from typing import Collection, Mapping, Optional, Sequence

from .. import files
from ..analysis.facts import ModelFacts
from ..results import ConversionEntry
from . import model_files


def render_env_files(
    facts_list: Sequence[ModelFacts],
    entries: Sequence[ConversionEntry],
    gen_key: str,
    aot: Optional[Mapping[str, tuple[model_files.AotLayout, str]]] = None,
) -> dict[str, str]:
    """Relative path -> text for every file of the env. ``aot``: model name -> (arena layout,
    source text) of its ahead-of-time code (custom_tinyml_runtime = aot)."""
    out: dict[str, str] = {}
    for facts, entry in zip(facts_list, entries):
        layout, aot_source = aot[facts.name] if aot else (None, "")
        out[f"tinyml/{facts.name}.h"] = model_files.render_model_header(facts, layout)
        if aot_source:
            out[f"tinyml/{facts.name}_aot.cc"] = aot_source
        out[f"tinyml/{facts.name}.cc"] = model_files.render_model_source(facts)
        if entry.golden_inputs:
            out[f"tinyml/{facts.name}_golden.h"] = model_files.render_golden_header(
                facts, entry.golden_inputs, entry.golden_outputs, entry.report.get("golden_source")
            )
        if facts.is_default:
            out["model_data.h"] = model_files.render_seed_header(facts)
    out["tinyml/models.h"] = model_files.render_models_index([f.name for f in facts_list], gen_key)
    golden = [f.name for f, e in zip(facts_list, entries) if e.golden_inputs]
    if golden:
        out["tinyml/golden_suite.h"] = model_files.render_golden_suite(golden, gen_key)
    return out


def render_estimated_arenas(
    facts_list: Sequence[ModelFacts], margin_percent: int
) -> dict[str, str]:
    """``tinyml/<name>_arena.h`` where no probe measures it: the facts' size (the host measure
    plus ``margin_percent``, or the user's custom_tinyml_arena_size as given)."""
    out: dict[str, str] = {}
    for facts in facts_list:
        how = (
            "custom_tinyml_arena_size, as set in platformio.ini"
            if facts.arena_forced
            else f"Estimated: TFLM's interpreter on the host, for this word size, + "
            f"{margin_percent} %; not measured on this core."
        )
        out[f"tinyml/{facts.name}_arena.h"] = model_files.render_arena_header(
            facts.name, facts.source, facts.fingerprint, facts.arena_size, how
        )
    return out


def render_planned_arenas(facts_list: Sequence[ModelFacts]) -> dict[str, str]:
    """``tinyml/<name>_arena.h`` of the ahead-of-time runtime: the static plan's peak (or
    custom_tinyml_arena_size, as given)."""
    out: dict[str, str] = {}
    for facts in facts_list:
        how = (
            "custom_tinyml_arena_size, as set in platformio.ini"
            if facts.arena_forced
            else "Planned at build time: the peak of the ahead-of-time code's static arena plan."
        )
        out[f"tinyml/{facts.name}_arena.h"] = model_files.render_arena_header(
            facts.name, facts.source, facts.fingerprint, facts.arena_size, how
        )
    return out


def render_probe_ops(facts_list: Sequence[ModelFacts], gen_key: str) -> str:
    return model_files.render_probe_ops(facts_list, gen_key)


def write_generated(
    out_dir: Path, texts: Mapping[str, str], keep: Collection[str] = ()
) -> list[str]:
    """Write changed files only; delete generated files no longer produced (but ``keep``:
    files the build itself writes later)."""
    written = [
        name for name, text in sorted(texts.items()) if files.write_if_changed(out_dir / name, text)
    ]
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir).as_posix()
        if path.is_file() and path.suffix in (".h", ".cc") and rel not in texts and rel not in keep:
            path.unlink()
    return written


def write_test_suite(generated_dir: Path, test_dir: Path, when: str) -> Optional[Path]:
    """The golden-vector ``pio test`` suite, when the env has golden vectors, ``when`` (the
    option: auto, yes, no) allows it and the suite's file is absent (once written it is the
    project's: never overwritten). Its path, or None."""
    if when == "no" or (when == "auto" and not test_dir.is_dir()):
        return None
    if not (generated_dir / "tinyml" / "golden_suite.h").is_file():
        return None
    path = test_dir / model_files.GOLDEN_SUITE / "test_main.cpp"
    if path.exists():
        return None
    files.write_if_changed(path, model_files.render_test_suite_main())
    return path
