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

The rest of the tail that TFLM does not label (allocator and planner
bookkeeping) is a fixed block plus about 28 B per node on both word sizes; the
fixed block is 332-429 B smaller on the Cortex-M4 than in the host
interpreter (hello_world 584 -> 155, micro_speech 588 -> 256, kws 852 -> 488,
person_detect 1,352 -> 1,008 B): the rule subtracts 320 B. Kernel op data and
scratch handles ("Persistent buffer data") and the transient peak while
kernels prepare are kept at their 64-bit size, an upper bound on 32 bits.
Measured on the emulated Cortex-M4 (CMSIS-NN), written vs arena_used_bytes():
kws 23,040 vs 22,820 B (+1.0 %), person_detect 82,800 vs 82,308 B (+0.6 %),
micro_speech 6,928 vs 6,836 B (+1.3 %). Small models can need more while
their kernels prepare than what stays allocated (the host minimum is then
above TFLM's recorded total): there only the pointer records are subtracted.
hello_world reports 772 B used yet fails below ~1,120 B; 1,632 B is written.
``custom_tinyml_arena_size`` overrides it.
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


UNLABELLED_SAVED = 320  # bytes; the smallest difference measured was 332


def savings_on_32_bit(breakdown: Optional[Mapping[str, Any]], host_bytes: int = 0) -> int:
    kinds = (breakdown or {}).get("kinds", {})
    saved = 0.0
    for kind, fraction in POINTER_SAVINGS.items():
        record = kinds.get(kind)
        if isinstance(record, Mapping):
            saved += int(record.get("used", 0)) * fraction
    labelled = sum(int(r.get("used", 0)) for r in kinds.values() if isinstance(r, Mapping))
    unlabelled = int((breakdown or {}).get("tail", 0)) - labelled
    if kinds and unlabelled > 0 and not transient_bound(breakdown, host_bytes):
        saved += min(unlabelled, UNLABELLED_SAVED)
    return int(saved)


def transient_bound(breakdown: Optional[Mapping[str, Any]], host_bytes: int) -> bool:
    """True when the minimum is set by the peak while kernels prepare (the memory
    planner's working space, sized in ints), not by what stays allocated: then
    the bookkeeping saving above does not apply."""
    total = int((breakdown or {}).get("total", 0))
    return bool(host_bytes) and total + ALIGNMENT < host_bytes


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
    return align(host_bytes - savings_on_32_bit(breakdown, host_bytes))
