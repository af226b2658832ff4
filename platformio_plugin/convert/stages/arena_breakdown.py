"""What the arena holds at its measured minimum, by kind (TFLM's RecordingMicroAllocator).

The build turns the host (64-bit) figure into a 32-bit target figure with it:
the per-tensor and per-node structures in the arena's tail are pointer-sized.
"""

from __future__ import annotations

import ctypes
import os
import re
import tempfile
from typing import Any

import numpy as np

# "[RecordingMicroAllocator] 'TfLiteEvalTensor data' used 840 bytes with alignment
#  overhead (requested 840 bytes for 35 allocations)"
LINE = re.compile(r"'([^']+)' used (\d+) bytes .*?requested (\d+) bytes for (\d+)")
TOTALS = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


def parse(text: str) -> dict[str, Any]:
    kinds = {
        m[0]: {"used": int(m[1]), "requested": int(m[2]), "count": int(m[3])}
        for m in LINE.findall(text)
    }
    totals = {name: int(value) for name, value in TOTALS.findall(text)}
    return {"kinds": kinds, **totals}


def measure(runtime: Any, data: bytes, arena_size: int) -> dict[str, Any]:
    """The breakdown of a model (``data``) run in ``arena_size`` bytes, known to suffice."""
    interp = runtime.Interpreter.from_bytes(data, arena_size=arena_size)
    shape = [int(d) for d in interp.get_input_details(0)["shape"]]
    interp.set_input(np.zeros(shape, dtype=np.int8), 0)
    interp.invoke()
    # TFLM prints from C++ straight to a file descriptor (stderr in this build): capture both.
    with tempfile.TemporaryFile(mode="w+b") as capture:
        saved = {fd: os.dup(fd) for fd in (1, 2)}
        try:
            for fd in saved:
                os.dup2(capture.fileno(), fd)
            interp.print_allocations()
            ctypes.CDLL(None).fflush(None)  # C stdio buffers until flushed
        finally:
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
        capture.seek(0)
        text = capture.read().decode("utf-8", "replace")
    return parse(text)
