"""The pre-build work for one env, free of SCons, as a sequence of steps:
config -> fingerprints -> (cached) conversions -> facts -> budget -> generated files.

Nothing changed (the stamp matches) means: no conversion, no ML import, one line. The
stamp is written last, so an interrupted run is redone next time.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import cache, files
from .config import ModelSpec, PluginConfig
from .convert import frontends
from .convert.protocol import ConversionRequest
from .probe.cores import HOST_MARGIN_PERCENT, probe_core, why_not_probed
from .results import ConversionEntry, PreparedEnv, PreparedModel

if TYPE_CHECKING:
    from .analysis.facts import ModelFacts
    from .codegen.model_files import AotLayout

Log = Callable[[str], None]


def prepare_env(config: PluginConfig, *, core_dir: Path, log: Log) -> PreparedEnv:
    out_dir = config.generated_dir
    conv_keys = [cache.conversion_key(spec, config) for spec in config.models]
    gen_key = cache.generation_key(config, conv_keys)
    previous = cache.up_to_date(out_dir, gen_key)
    if previous is not None and (probed_core(config) is None or probe_ops_path(config).is_file()):
        log("models up to date")
        return previous

    # Analysis and codegen load only when something changed: every build imports this module.
    from .analysis import budget, facts
    from .codegen import env_files

    budget.check_known_flash(config)
    probed = probed_core(config)
    entries = [
        convert_cached(spec, key, config, core_dir, log)
        for spec, key in zip(config.models, conv_keys)
    ]
    model_facts = [
        facts.model_facts(
            spec,
            entry,
            key,
            config,
            default=i == 0,
            margin_percent=0 if probed else HOST_MARGIN_PERCENT,
        )  # fmt: skip
        for i, (spec, key, entry) in enumerate(zip(config.models, conv_keys, entries))
    ]
    aot_files = None
    if config.options.runtime == "aot":
        model_facts, aot_files = ahead_of_time(config, model_facts)
    models = tuple(facts.prepared_model(f, e) for f, e in zip(model_facts, entries))
    if models:  # with a probe, RAM is checked once the arena is measured
        budget.check_env(
            config, [budget.ModelCost(m.name, m.flash, 0 if probed else m.arena) for m in models]
        )
    texts = env_files.render_env_files(model_facts, entries, gen_key, aot_files)
    if aot_files is not None:
        texts.update(env_files.render_planned_arenas(model_facts))
    elif probed is None:
        texts.update(env_files.render_estimated_arenas(model_facts, HOST_MARGIN_PERCENT))
    cache.clear_stamp(out_dir)
    keep = {f"tinyml/{m.name}_arena.h" for m in models} if probed else set()
    written = env_files.write_generated(out_dir, texts, keep)
    if probed and model_facts:
        files.write_if_changed(
            probe_ops_path(config), env_files.render_probe_ops(model_facts, gen_key)
        )
    ops = tuple(sorted({op for m in models for op in m.ops}))
    prepared = PreparedEnv(models, ops, config.kernels.kernels, out_dir, False)
    cache.write_manifest(prepared)
    cache.write_stamp(out_dir, gen_key)
    log_models(models, log, probed)
    if probed is None and models and config.options.arena_size is None and aot_files is None:
        log(estimate_warning(config))
    if written:
        log(f"generated {len(written)} file(s) in {config.display(out_dir)}")
    return prepared


def ahead_of_time(
    config: PluginConfig, model_facts: list[ModelFacts]
) -> tuple[list[ModelFacts], dict[str, tuple[AotLayout, str]]]:
    """custom_tinyml_runtime = aot: each model's generated source; kArenaSize is its plan's
    peak."""
    from .aot import generate_env
    from .codegen.model_files import AotLayout, banner

    calls = "CMSIS-NN" if config.kernels.cmsis_nn else "TFLite Micro reference-kernel"
    banners = [
        banner(f.source, f.fingerprint, f"Model `{f.name}`: ahead-of-time code ({calls} calls).")
        for f in model_facts
    ]
    planned, generated = generate_env(config, model_facts, banners)
    files = {
        m.name: (AotLayout(m.arena_size, m.input_offset, m.output_offset), m.source)
        for m in generated
    }
    return planned, files


def probed_core(config: PluginConfig) -> str | None:
    """The core on which the build's probe measures the arena for this env, None when it
    measures none (the ahead-of-time runtime's arena is its plan: its probe, which checks the
    code, is ``aot_checked_core``)."""
    if config.options.runtime in ("none", "aot") or config.options.probe == "no":
        return None
    if not config.models:
        return None
    return probe_core(config.board.cpu, config.board.fpu)


def aot_checked_core(config: PluginConfig) -> str | None:
    """The core the build's probe runs the ahead-of-time code on (custom_tinyml_runtime = aot:
    golden vectors, instructions, stack; the arena stays the plan), None when it runs none."""
    if config.options.runtime != "aot" or config.options.probe == "no" or not config.models:
        return None
    return probe_core(config.board.cpu, config.board.fpu)


def estimate_warning(config: PluginConfig) -> str:
    """Why kArenaSize is not measured here, and what to do about it."""
    cpu = config.board.cpu or "this board's CPU"
    if config.options.probe == "no":
        why = "custom_tinyml_probe = no"
    elif config.options.runtime == "none":
        why = "custom_tinyml_runtime = none"
    else:
        why = why_not_probed(cpu, config.board.fpu)
    return (
        f"Warning! TinyML: kArenaSize is an estimate ({why}): TFLM's interpreter on the host "
        f"+ {HOST_MARGIN_PERCENT} %. Check model.arena_used_bytes() on the board, or set "
        "custom_tinyml_arena_size."
    )


def probe_ops_path(config: PluginConfig) -> Path:
    """The probe's op registrations: beside the generated folder, not compiled into the
    firmware."""
    return config.build_dir / "tinyml-probe" / "ops.cc"


def convert_cached(
    spec: ModelSpec, key: str, config: PluginConfig, core_dir: Path, log: Log
) -> ConversionEntry:
    """The cache entry for `key`, converting under a lock when missing. The converter
    publishes straight into the entry; the stamp written after it marks it done."""
    entry = cache.entry_dir(config, key)
    with files.locked(config.cache_dir / f"{key}.lock"):
        if not cache.entry_done(entry, key):
            files.clear_stale_staging(entry)  # left by a killed run
            from .convert.conversion import convert_model

            about = cache.conversion_about(spec, config)
            changed = cache.what_changed(config, about)
            what = f": {', '.join(changed)}" if changed else ""
            log(f"{config.display(spec.path)}{what} changed -> converting")
            # The converter's step logs stay in the build folder, above all after a failure.
            logs = config.build_dir / "tinyml-logs" / spec.name
            shutil.rmtree(logs, ignore_errors=True)
            convert_model(conversion_request(spec, entry, logs, config), core_dir=core_dir, log=log)
            cache.write_stamp(entry, key, about)
        return cache.read_entry(entry)


def conversion_request(
    spec: ModelSpec, entry: Path, logs: Path, config: PluginConfig
) -> ConversionRequest:
    opts = config.options
    return ConversionRequest(
        model=spec.path,
        output_dir=entry,
        work_dir=logs,
        model_class=spec.model_class,
        model_kwargs=dict(spec.model_kwargs),
        input_shape=spec.input_shape,
        calibration=spec.calibration,
        validation=spec.validation,
        trust_pickle=opts.trust_pickle,
        min_calibration_samples=opts.min_calibration_samples,
        max_accuracy_drop=opts.max_accuracy_drop,
        golden_vectors=opts.golden_vectors,
        input_layout=opts.input_layout,
        frontend=opts.frontend if frontends.applies(spec.fmt) else frontends.AUTO,
    )


def log_models(models: tuple[PreparedModel, ...], log: Log, probed: str | None = None) -> None:
    from .report.text import quality_summary, route_summary

    for m in models:
        arena = f"arena {m.arena:,} B" if probed is None else f"arena: measured on {probed}"
        log(
            f"{m.name}: {len(m.ops)} ops, {m.macs / 1e6:.2f} M MACs, "
            f'flash {m.flash:,} B, {arena}; #include "tinyml/{m.name}.h"'
        )
        route = route_summary(m.report)
        if route:
            log(f"{m.name}: converted by {route}")
        quality = quality_summary(m.report)
        if quality:
            log(f"{m.name}: {quality}")
