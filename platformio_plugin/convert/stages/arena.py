"""The smallest tensor arena (bytes) in which TFLM's interpreter allocates and runs the model,
and what the arena holds at that size (arena_breakdown).

Doubling from 16 KB, then bisection to the byte. A too-small arena may abort or crash the
interpreter, so each probe runs in a forked child: the parent imports TFLM once and only
counts exit codes (one process per probe used to cost an interpreter start each).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConversionError
from . import arena_breakdown

ARENA_START = 16 * 1024
ARENA_MAX = 256 * 1024 * 1024


def _runs_in(runtime: Any, data: bytes, size: int) -> bool:
    pid = os.fork()
    if pid == 0:  # the child: exit code only, never back into the caller's code
        code = 4
        try:
            interp = runtime.Interpreter.from_bytes(data, arena_size=size)
            shape = [int(d) for d in interp.get_input_details(0)["shape"]]
            interp.set_input(np.zeros(shape, dtype=np.int8), 0)
            interp.invoke()
            code = 0
        except BaseException:  # noqa: BLE001 - any failure means "too small"
            pass
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def run(request: dict[str, Any]) -> dict[str, Any]:
    from tflite_micro import runtime

    data = Path(request["tflite"]).read_bytes()
    probes = 0

    def works(size: int) -> bool:
        nonlocal probes
        probes += 1
        return _runs_in(runtime, data, size)

    hi = ARENA_START
    while not works(hi):
        if hi >= ARENA_MAX:
            raise ConversionError(
                f"{Path(request['tflite']).name} does not run in {ARENA_MAX:,} bytes of arena "
                "in TFLite Micro's interpreter.",
                "Check the model with the TFLite Micro interpreter.",
            )
        hi *= 2
    lo = hi // 2 if hi > ARENA_START else 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if works(mid):
            hi = mid
        else:
            lo = mid
    return {"arena": hi, "probes": probes, "breakdown": arena_breakdown.measure(runtime, data, hi)}
