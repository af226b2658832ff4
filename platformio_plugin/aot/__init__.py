"""The ahead-of-time runtime (custom_tinyml_runtime = aot): per model, C++ that calls
CMSIS-NN (or TFLM's reference kernels) node by node with every parameter computed at build
time, over one statically planned arena. graph (the .tflite) -> ops/ (one emitter per op) ->
plan (the arena) -> emit (the source text)."""

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
    DSP extension, not Helium's (MVE); TFLM's reference kernels run on any board."""
    cpu = config.board.cpu
    if config.kernels.cmsis_nn and cpu.startswith(HELIUM_CORES):
        raise ConfigError(
            f"env {config.env_name}: custom_tinyml_runtime = aot generates CMSIS-NN calls for "
            f"Cortex-M cores without Helium; this board's {cpu} has Helium.",
            "Use custom_tinyml_runtime = tflm for this board, or custom_tinyml_kernels = "
            "reference to generate calls of TFLite Micro's reference kernels.",
        )


def generate_env(
    config: PluginConfig, facts_list: Sequence[ModelFacts], banners: Sequence[str]
) -> tuple[list[ModelFacts], list[AotModel]]:
    """Each model's ahead-of-time source, and its facts with kArenaSize the plan's peak
    (unless custom_tinyml_arena_size sets it)."""
    check_board(config)
    models = [
        generate_model(
            f.data,
            f.name,
            dsp=config.kernels.dsp,
            banner=banner,
            kernels=config.kernels.kernels,
            in_place=config.options.aot_in_place == "auto",
        )
        for f, banner in zip(facts_list, banners)
    ]
    for f, m in zip(facts_list, models):
        check_forced_arena(f, m)
    facts = [
        f if f.arena_forced else dataclasses.replace(f, arena_size=m.arena_size)
        for f, m in zip(facts_list, models)
    ]
    return facts, models


def check_forced_arena(facts: ModelFacts, model: AotModel) -> None:
    """A custom_tinyml_arena_size below the plan's peak would only fail begin() on the board:
    refuse it at build time."""
    if facts.arena_forced and facts.arena_size < model.arena_size:
        raise ConfigError(
            f"{facts.source}: custom_tinyml_arena_size = {facts.arena_size} is smaller than "
            f"the {model.arena_size} B the ahead-of-time plan of `{model.name}` needs.",
            f"Set custom_tinyml_arena_size to at least {model.arena_size}, or leave it out "
            "(with custom_tinyml_runtime = aot, kArenaSize is the plan's peak).",
        )
