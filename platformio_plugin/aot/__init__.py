"""The ahead-of-time runtime (custom_tinyml_runtime = aot): per model, C++ that calls
CMSIS-NN node by node with every parameter computed at build time, over one statically
planned arena. graph (the .tflite) -> ops/ (one emitter per op) -> plan (the arena) ->
emit (the source text)."""

from __future__ import annotations

import dataclasses
from typing import Sequence

from ..analysis.facts import ModelFacts
from ..config import PluginConfig
from ..errors import ConfigError
from .emit import AotModel, generate_model

HELIUM_CORES = ("cortex-m52", "cortex-m55", "cortex-m85")


def check_board(config: PluginConfig) -> None:
    """The generator knows CMSIS-NN's scratch sizes for Cortex-M cores with or without the
    DSP extension; other boards keep the interpreter."""
    cpu = config.board.cpu
    if not config.kernels.cmsis_nn or cpu.startswith(HELIUM_CORES):
        why = config.kernels.reason if not config.kernels.cmsis_nn else f"{cpu} has Helium"
        raise ConfigError(
            f"env {config.env_name}: custom_tinyml_runtime = aot generates CMSIS-NN calls for "
            f"Cortex-M cores without Helium; this board's kernels: {why}.",
            "Use custom_tinyml_runtime = tflm for this board.",
        )


def generate_env(
    config: PluginConfig, facts_list: Sequence[ModelFacts], banners: Sequence[str]
) -> tuple[list[ModelFacts], list[AotModel]]:
    """Each model's ahead-of-time source, and its facts with kArenaSize the plan's peak
    (unless custom_tinyml_arena_size sets it)."""
    check_board(config)
    models = [
        generate_model(f.data, f.name, dsp=config.kernels.dsp, banner=banner)
        for f, banner in zip(facts_list, banners)
    ]
    facts = [
        f if f.arena_forced else dataclasses.replace(f, arena_size=m.arena_size)
        for f, m in zip(facts_list, models)
    ]
    return facts, models
