"""Each model of an env with its .tflite parsed: the info text and the HTML pages of one
`tinyml-info` run share one parse per model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from ..analysis.tflite_reader import TFLiteModel, parse_tflite
from ..results import PreparedEnv, PreparedModel

Parsed = Sequence[tuple[PreparedModel, TFLiteModel]]


def parsed_models(prepared: PreparedEnv, parsed: Optional[Parsed] = None) -> Parsed:
    """Every model of the env with its parsed .tflite, in the env's order (`parsed` when the
    caller already has them)."""
    if parsed is not None:
        return parsed
    return [(m, parse_tflite(Path(m.tflite).read_bytes(), m.source)) for m in prepared.models]
