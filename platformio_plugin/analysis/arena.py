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

The rest of the tail that TFLM does not label (allocator and memory-planner
bookkeeping) measured 57-75 % of its 64-bit size on the Cortex-M4
(kws_ref_model 852 -> 488 B, person_detect 1,352 -> 1,008 B): the rule keeps
75 %, the largest share seen. Kernel op data and scratch handles ("Persistent
buffer data") and the transient peak while kernels prepare are kept at their
64-bit size, an upper bound on 32 bits (CMSIS-NN's op data is smaller than the
reference kernels'). Measured result on the emulated Cortex-M4 with CMSIS-NN:
kws 23,136 B written for 22,820 B used (+1.4 %), person_detect 82,784 B for
82,324 B (+0.6 %). ``custom_tinyml_arena_size`` overrides it.
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


UNLABELLED_KEPT = 0.75


def savings_on_32_bit(breakdown: Optional[Mapping[str, Any]]) -> int:
    kinds = (breakdown or {}).get("kinds", {})
    saved = 0.0
    for kind, fraction in POINTER_SAVINGS.items():
        record = kinds.get(kind)
        if isinstance(record, Mapping):
            saved += int(record.get("used", 0)) * fraction
    labelled = sum(int(r.get("used", 0)) for r in kinds.values() if isinstance(r, Mapping))
    unlabelled = int((breakdown or {}).get("tail", 0)) - labelled
    if kinds and unlabelled > 0:
        saved += unlabelled * (1 - UNLABELLED_KEPT)
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
