"""One arena probe: exit 0 when the model allocates and runs in ``arena_size`` bytes.

A too-small arena may abort or crash the interpreter, hence one process per probe.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def run(request: dict[str, Any]) -> dict[str, Any]:
    from tflite_micro import runtime

    data = Path(request["tflite"]).read_bytes()
    try:
        interp = runtime.Interpreter.from_bytes(data, arena_size=int(request["arena_size"]))
        shape = [int(d) for d in interp.get_input_details(0)["shape"]]
        interp.set_input(np.zeros(shape, dtype=np.int8), 0)
        interp.invoke()
    except Exception:
        os._exit(4)
    return {"ok": True}
