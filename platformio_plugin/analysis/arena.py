"""From the arena TFLM's Python interpreter needs on the 64-bit host to the
arena a 32-bit target needs.

The host figure is exact for a 64-bit build with reference kernels: the
smallest ``arena_size`` that allocates and invokes (binary search, one process
per probe). On a 32-bit MCU the planned tensor buffers (the arena's head) are
the same plan, while four kinds of the tail's records are made of pointers and
``size_t`` and shrink by a fixed ratio. Measured with TFLM's
RecordingMicroAllocator on the host and on the emulated Cortex-M4 (same model,
both builds), per record:

    TfLiteEvalTensor                24 -> 12 bytes
    persistent TfLiteTensor         64 -> 32 bytes
    NodeAndRegistration             64 -> 32 bytes
    quantization params (per 4)     64 -> 40 bytes

Everything else (kernel op data, scratch handles, allocator bookkeeping, the
transient peak while kernels prepare) is kept at its 64-bit size, an upper
bound on 32 bits: so the written size stays safe, with a slack of a few
percent on real models. ``custom_tinyml_arena_size`` overrides it.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

ALIGNMENT = 16
HOST_CPUS = ("host", "x86_64", "amd64", "aarch64", "arm64")
# record kind (as TFLM names it) -> fraction of its 64-bit size saved on 32 bits
POINTER_SAVINGS = {
    "TfLiteEvalTensor data": 1 / 2,
    "Persistent TfLiteTensor data": 1 / 2,
    "NodeAndRegistration struct": 1 / 2,
    "Persistent TfLiteTensor quantization data": 3 / 8,
}


def align(value: int, to: int = ALIGNMENT) -> int:
    return (value + to - 1) // to * to


def pointer_bits(cpu: str) -> int:
    """64 for the host board, 32 for every MCU (Cortex-M, ESP32, RISC-V 32)."""
    return 64 if cpu.lower() in HOST_CPUS else 32


def savings_on_32_bit(breakdown: Optional[Mapping[str, Any]]) -> int:
    kinds = (breakdown or {}).get("kinds", {})
    saved = 0.0
    for kind, fraction in POINTER_SAVINGS.items():
        record = kinds.get(kind)
        if isinstance(record, Mapping):
            saved += int(record.get("used", 0)) * fraction
    return int(saved)


def target_arena(
    host_bytes: int,
    breakdown: Optional[Mapping[str, Any]] = None,
    bits: int = 32,
    override: Optional[int] = None,
) -> int:
    """kArenaSize written into the generated header."""
    if override:
        return align(override)
    if bits == 64:
        return align(host_bytes)
    return align(host_bytes - savings_on_32_bit(breakdown))
