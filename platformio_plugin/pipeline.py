"""The pre-build work for one env, free of SCons: config -> fingerprint ->
(cached) conversion -> analysis -> generated files.

Nothing changed (the stamp matches) means: no conversion, no ML import, one
line. The stamp is written last, so an interrupted run is redone next time.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence

from . import cache
from .config import ModelSpec, PluginConfig

# Analysis and codegen load only when something changed: every build imports this module.
if TYPE_CHECKING:
    from .analysis import budget
    from .codegen import model_files

Log = Callable[[str], None]
MANIFEST = "manifest.json"
REQUIREMENTS = Path(__file__).parent / "convert" / "requirements.txt"
# Bumped when what a conversion stores changes, so older cache entries are redone.
CACHE_FORMAT = 3
CONVERT_OPTIONS = ("min_calibration_samples", "max_accuracy_drop", "trust_pickle", "golden_vectors")


@dataclass(frozen=True)
class PreparedModel:
    name: str
    source: str
    fingerprint: str
    tflite: Path
    ops: tuple[str, ...]
    macs: int
    flash: int
    arena: int
    arena_host: int
    report: Mapping[str, Any]


@dataclass(frozen=True)
class PreparedEnv:
    models: tuple[PreparedModel, ...]
    ops: tuple[str, ...]  # union of every model's ops, sorted
    kernels: str
    generated_dir: Path
    up_to_date: bool


def conversion_key(spec: ModelSpec, opts: Mapping[str, Any]) -> str:
    """What decides the int8 model: inputs, convert options, converter pins."""
    class_file = Path(spec.model_class.rpartition(":")[0]) if spec.model_class else None
    files = {
        "model": spec.path,
        "class": class_file,
        "calibration": spec.calibration,
        "validation": spec.validation,
        "requirements": REQUIREMENTS if REQUIREMENTS.exists() else None,
    }
    settings = {
        "format": spec.fmt,
        "class_name": spec.model_class.rpartition(":")[2] if spec.model_class else None,
        "kwargs": dict(spec.model_kwargs),
        "input_shape": spec.input_shape,
        "cache_format": CACHE_FORMAT,
        **{name: opts[name] for name in CONVERT_OPTIONS},
    }
    return cache.fingerprint(files, settings)


def generation_key(config: PluginConfig, conv_keys: Sequence[str], kernels: str) -> str:
    """What decides the generated files of one env: conversions + board + codegen options."""
    files = {f"labels{i}": spec.labels_path for i, spec in enumerate(config.models)}
    settings = {
        "models": [
            (
                s.name,
                str(s.path.relative_to(config.project_dir))
                if s.path.is_relative_to(config.project_dir)
                else str(s.path),
            )
            for s in config.models
        ],
        "conversions": list(conv_keys),
        "cpu": config.board.cpu,
        "board": config.board.board_id,
        "kernels": kernels,
        "arena_size": config.options["arena_size"],
        "runtime": [config.options["runtime_flash"], config.options["runtime_ram"]],
    }
    return cache.fingerprint(files, settings)


def quality_summary(report: Mapping[str, Any]) -> Optional[str]:
    """One line on what int8 cost against float, from the converter's checks."""
    if report.get("max_abs_err") is None:
        return None
    text = f"int8 vs float on {report.get('compare_samples', '?')} held-out samples: "
    if report.get("top1_agreement") is not None:
        text += f"top-1 agreement {float(report['top1_agreement']):.1f} %, "
    text += (
        f"max |err| {float(report['max_abs_err']):.3g}, "
        f"mean |err| {float(report.get('mean_abs_err', 0.0)):.3g}"
    )
    if report.get("accuracy_float") is not None:
        text += (
            f", accuracy float {float(report['accuracy_float']):.1f} % / "
            f"int8 {float(report['accuracy_int8']):.1f} %"
        )
    return text


def display_path(path: Path, project_dir: Path) -> str:
    try:
        return str(path.relative_to(project_dir))
    except ValueError:
        return str(path)


def read_manifest(generated_dir: Path) -> Optional[dict[str, Any]]:
    try:
        data = json.loads((generated_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _prepared_from_manifest(
    data: Mapping[str, Any], generated_dir: Path, kernels: str
) -> PreparedEnv:
    models = tuple(
        PreparedModel(
            name=m["name"],
            source=m["source"],
            fingerprint=m["fingerprint"],
            tflite=Path(m["tflite"]),
            ops=tuple(m["ops"]),
            macs=m["macs"],
            flash=m["flash"],
            arena=m["arena"],
            arena_host=m["arena_host"],
            report=m.get("report", {}),
        )
        for m in data["models"]
    )
    return PreparedEnv(models, tuple(data["ops"]), kernels, generated_dir, True)


def cache_root(config: PluginConfig) -> Path:
    """Conversions are shared by every env of the project (same model -> convert once)."""
    return config.cache_dir


def convert_cached(
    spec: ModelSpec, key: str, config: PluginConfig, core_dir: Path, log: Log
) -> Path:
    """The cache entry folder for `key`, converting under a lock when missing."""
    entry = cache_root(config) / key
    with cache.locked(cache_root(config) / f"{key}.lock"):
        if cache.read_stamp(entry) == key:
            return entry
        for stale in cache_root(config).glob(f".{key[:12]}-*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        from .convert import ConversionRequest, convert_model  # stdlib-only side

        log(f"{display_path(spec.path, config.project_dir)} changed -> converting")
        staging = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=cache_root(config)))
        # The converter's logs stay in the build folder, also (above all) after a failure.
        work = config.build_dir / "tinyml-logs" / spec.name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            result = convert_model(
                ConversionRequest(
                    model=spec.path,
                    output_dir=work / "out",
                    model_class=spec.model_class,
                    model_kwargs=dict(spec.model_kwargs),
                    input_shape=spec.input_shape,
                    calibration=spec.calibration,
                    validation=spec.validation,
                    trust_pickle=bool(config.options["trust_pickle"]),
                    min_calibration_samples=int(config.options["min_calibration_samples"]),
                    max_accuracy_drop=config.options["max_accuracy_drop"],
                    golden_vectors=int(config.options["golden_vectors"]),
                ),
                core_dir=core_dir,
                log=log,
            )
            shutil.copyfile(result.tflite, staging / "model.tflite")
            if result.golden and Path(result.golden).is_file():
                shutil.copyfile(result.golden, staging / "golden.json")
            summary = {
                "input_layout": result.input_layout,
                "source_layout": result.source_layout,
                "arena_bytes_host": result.arena_bytes_host,
                "report": dict(result.report),
            }
            cache.write_atomic(
                staging / "result.json", json.dumps(summary, indent=1, sort_keys=True)
            )
            cache.write_stamp(staging, key)
            cache.publish_dir(staging, entry)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return entry


def _facts(
    spec: ModelSpec, entry: Path, key: str, config: PluginConfig, kernels: str, default: bool
) -> tuple[model_files.ModelFacts, dict[str, Any]]:
    from .analysis import arena, layers
    from .analysis.tflite_reader import parse_tflite
    from .codegen import model_files

    data = (entry / "model.tflite").read_bytes()
    summary = json.loads((entry / "result.json").read_text(encoding="utf-8"))
    model = parse_tflite(data, display_path(spec.path, config.project_dir))
    layers.check_supported(model, spec.name)
    size = arena.target_arena(
        int(summary["arena_bytes_host"]),
        summary.get("report", {}).get("arena_breakdown"),
        arena.pointer_bits(config.board.cpu or config.board.board_id),
        config.options["arena_size"],
    )
    facts = model_files.ModelFacts(
        name=spec.name,
        source=display_path(spec.path, config.project_dir),
        fingerprint=key,
        data=data,
        model=model,
        arena_size=size,
        input_layout=_layout(summary.get("input_layout")),
        labels=spec.labels,
        int8_registrations=kernels == "cmsis-nn",
        is_default=default,
    )
    return facts, summary


def _layout(value: Any) -> str:
    """NHWC/NCHW (and NWC/NCW) tell the user how to lay out data; flat inputs have none."""
    return str(value) if value in ("NHWC", "NCHW", "NWC", "NCW") else ""


def _golden_vectors(entry: Path) -> tuple[list[bytes], list[bytes]]:
    try:
        golden = json.loads((entry / "golden.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [], []
    vectors = golden.get("vectors", [])
    inputs = [bytes(v & 0xFF for v in vec["input"]) for vec in vectors]
    outputs = [bytes(v & 0xFF for v in vec["output"]) for vec in vectors]
    return inputs, outputs


def render_env_files(
    facts_list: Sequence[model_files.ModelFacts], entries: Sequence[Path], gen_key: str
) -> dict[str, str]:
    from .codegen import model_files

    files: dict[str, str] = {}
    for facts, entry in zip(facts_list, entries):
        files[f"tinyml/{facts.name}.h"] = model_files.render_model_header(facts)
        files[f"tinyml/{facts.name}.cc"] = model_files.render_model_source(facts)
        inputs, outputs = _golden_vectors(entry)
        if inputs:
            summary = json.loads((entry / "result.json").read_text(encoding="utf-8"))
            source = summary.get("report", {}).get("golden_source")
            files[f"tinyml/{facts.name}_golden.h"] = model_files.render_golden_header(
                facts, inputs, outputs, source
            )
        if facts.is_default:
            files["model_data.h"] = model_files.render_seed_header(facts)
    files["tinyml/models.h"] = model_files.render_models_index(
        [f.name for f in facts_list], gen_key
    )
    return files


def write_generated(out_dir: Path, files: Mapping[str, str]) -> list[str]:
    """Write changed files only; delete generated files no longer produced."""
    written = [
        name for name, text in sorted(files.items()) if cache.write_if_changed(out_dir / name, text)
    ]
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir).as_posix()
        if path.is_file() and path.suffix in (".h", ".cc") and rel not in files:
            path.unlink()
    return written


def _check(config: PluginConfig, costs: Sequence[budget.ModelCost]) -> None:
    from .analysis import budget

    budget.check_budget(
        costs,
        config.board,
        config.env_name,
        runtime_flash=int(config.options["runtime_flash"]),
        runtime_ram=int(config.options["runtime_ram"]),
    )


def check_known_flash(config: PluginConfig) -> None:
    """A .tflite is its own flash size: refuse an oversized one before converting anything."""
    from .analysis import budget

    costs = [
        budget.ModelCost(spec.name, spec.path.stat().st_size, 0)
        for spec in config.models
        if spec.fmt == ".tflite"
    ]
    if costs:
        _check(config, costs)


def prepare_env(config: PluginConfig, *, kernels: str, core_dir: Path, log: Log) -> PreparedEnv:
    out_dir = config.generated_dir
    conv_keys = [conversion_key(spec, config.options) for spec in config.models]
    gen_key = generation_key(config, conv_keys, kernels)
    manifest = read_manifest(out_dir)
    if cache.read_stamp(out_dir) == gen_key and manifest is not None:
        log("models up to date")
        return _prepared_from_manifest(manifest, out_dir, kernels)

    from .analysis import budget, layers

    check_known_flash(config)
    cache_root(config).mkdir(parents=True, exist_ok=True)
    entries = [
        convert_cached(s, k, config, core_dir, log) for s, k in zip(config.models, conv_keys)
    ]
    facts_list, prepared = [], []
    for i, (spec, key, entry) in enumerate(zip(config.models, conv_keys, entries)):
        facts, summary = _facts(spec, entry, key, config, kernels, default=i == 0)
        facts_list.append(facts)
        rows = layers.layers(facts.model)
        prepared.append(
            PreparedModel(
                name=spec.name,
                source=facts.source,
                fingerprint=key,
                tflite=entry / "model.tflite",
                ops=tuple(sorted({r.op for r in rows})),
                macs=sum(r.macs for r in rows),
                flash=len(facts.data),
                arena=facts.arena_size,
                arena_host=int(summary["arena_bytes_host"]),
                report=summary.get("report", {}),
            )
        )
    costs = [budget.ModelCost(p.name, p.flash, p.arena) for p in prepared]
    if costs:
        _check(config, costs)
    files = render_env_files(facts_list, entries, gen_key)
    # The old stamp goes first: a run killed while writing must not leave new files
    # under an old stamp that a later build would take as up to date.
    (out_dir / cache.STAMP_NAME).unlink(missing_ok=True)
    written = write_generated(out_dir, files)
    ops = tuple(sorted({op for p in prepared for op in p.ops}))
    manifest_data = {
        "models": [
            {**p.__dict__, "tflite": str(p.tflite), "report": dict(p.report)} for p in prepared
        ],
        "ops": list(ops),
        "kernels": kernels,
    }
    cache.write_atomic(
        out_dir / MANIFEST, json.dumps(manifest_data, indent=1, sort_keys=True, default=str)
    )
    cache.write_stamp(out_dir, gen_key)
    for p in prepared:
        log(
            f"{p.name}: {len(p.ops)} ops, {p.macs / 1e6:.2f} M MACs, "
            f"flash {p.flash:,} B, arena {p.arena:,} B"
        )
        quality = quality_summary(p.report)
        if quality:
            log(f"{p.name}: {quality}")
    if written:
        log(f"generated {len(written)} file(s) in {display_path(out_dir, config.project_dir)}")
    return PreparedEnv(tuple(prepared), ops, kernels, out_dir, False)


def clean_env(config: PluginConfig) -> list[Path]:
    """tinyml-clean: generated files of this env and its conversion cache entries."""
    removed = []
    for spec in config.models:
        entry = cache_root(config) / conversion_key(spec, config.options)
        if entry.exists():
            shutil.rmtree(entry)
            removed.append(entry)
    if config.generated_dir.exists():
        shutil.rmtree(config.generated_dir)
        removed.append(config.generated_dir)
    return removed
