"""What the pre-build work hands on: a prepared model per model, a prepared env, and
what a conversion cache entry holds. Frozen data only; written to and read from the
env's manifest by field name, so both directions stay in step."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class ConversionEntry:
    """A finished conversion cache entry, read once: the int8 model and what was measured."""

    folder: Path
    tflite: Path
    data: bytes
    report: Mapping[str, Any]  # the converter's report.json
    golden_inputs: tuple[bytes, ...] = ()
    golden_outputs: tuple[bytes, ...] = ()

    @property
    def arena_bytes_host(self) -> int:
        return int(self.report["arena_bytes_host"])


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
    report: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(tflite=str(self.tflite), ops=list(self.ops), report=dict(self.report))
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PreparedModel:
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values.update(tflite=Path(data["tflite"]), ops=tuple(data["ops"]))
        return cls(**values)


@dataclass(frozen=True)
class PreparedEnv:
    models: tuple[PreparedModel, ...]
    ops: tuple[str, ...]  # union of every model's ops, sorted
    kernels: str
    generated_dir: Path
    up_to_date: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "models": [m.to_json() for m in self.models],
            "ops": list(self.ops),
            "kernels": self.kernels,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], generated_dir: Path) -> PreparedEnv:
        models = tuple(PreparedModel.from_json(m) for m in data["models"])
        return cls(models, tuple(data["ops"]), str(data["kernels"]), generated_dir, True)
