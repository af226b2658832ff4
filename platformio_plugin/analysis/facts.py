"""What the generated files and the build log say about one model, from its finished
conversion entry: the parsed int8 model, the arena for the env's CPU, the layout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import ModelSpec, PluginConfig
from ..results import ConversionEntry, PreparedModel
from . import arena, layers
from .tflite_reader import TFLiteModel, parse_tflite

IMAGE_LAYOUTS = ("NHWC", "NCHW", "NWC", "NCW")
SEED_DATA = "model_quantized_tflite"  # the name `xxd -i` gives the seed's model array


@dataclass(frozen=True)
class ModelFacts:
    """Everything the generated files say about one model."""

    name: str  # C identifier
    source: str  # model path as shown to the user (relative to the project)
    fingerprint: str
    data: bytes  # the int8 .tflite
    model: TFLiteModel
    arena_size: int
    arena_forced: bool  # custom_tinyml_arena_size
    input_layout: str  # "NHWC" / "NCHW" / "" when not an image
    labels: tuple[str, ...]
    int8_registrations: bool  # use Register_*_INT8() where the whole op is int8
    is_default: bool  # also emit the seed-compatible model_data.h symbols

    @property
    def data_symbol(self) -> str:
        return SEED_DATA if self.is_default else f"tinyml_{self.name}_model_data"


def input_layout(value: Any) -> str:
    """NHWC/NCHW (and NWC/NCW) tell the user how to lay out data; flat inputs have none."""
    return str(value) if value in IMAGE_LAYOUTS else ""


def model_facts(
    spec: ModelSpec,
    entry: ConversionEntry,
    key: str,
    config: PluginConfig,
    default: bool,
    margin_percent: int = 0,
) -> ModelFacts:
    """Parse once, refuse unsupported ops, size the arena for the board's word size (plus
    ``margin_percent`` where it stays an estimate; never on the user's own size)."""
    source = config.display(spec.path)
    model = parse_tflite(entry.data, source)
    layers.check_supported(model, spec.name)
    size = arena.target_arena(
        entry.arena_bytes_host,
        entry.report.get("arena_breakdown"),
        arena.pointer_bits(config.board.cpu or config.board.board_id),
        config.options.arena_size,
    )
    if margin_percent and config.options.arena_size is None:
        size = arena.align(size * (100 + margin_percent) // 100)
    return ModelFacts(
        name=spec.name,
        source=source,
        fingerprint=key,
        data=entry.data,
        model=model,
        arena_size=size,
        arena_forced=config.options.arena_size is not None,
        input_layout=input_layout(entry.report.get("input_layout")),
        labels=spec.labels,
        int8_registrations=config.kernels.cmsis_nn,
        is_default=default,
    )


def prepared_model(facts: ModelFacts, entry: ConversionEntry) -> PreparedModel:
    rows = layers.layers(facts.model)
    return PreparedModel(
        name=facts.name,
        source=facts.source,
        fingerprint=facts.fingerprint,
        tflite=entry.tflite,
        ops=tuple(sorted({r.op for r in rows})),
        macs=sum(r.macs for r in rows),
        flash=len(facts.data),
        arena=facts.arena_size,
        arena_host=entry.arena_bytes_host,
        report=entry.report,
    )
