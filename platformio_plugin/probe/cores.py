"""Which cores the probe can emulate: the Cortex-M cores of Unicorn's CPU models. Pure."""

from __future__ import annotations

from typing import Final, Optional

# build.cpu -> the Unicorn CPU model that runs its instruction set (M0+ and M1 are ARMv6-M
# like the M0; M23 and M35P are ARMv8-M like the M33). M52/M55/M85 (Helium) have none.
UNICORN_MODELS: Final[dict[str, str]] = {
    "cortex-m0": "UC_CPU_ARM_CORTEX_M0",
    "cortex-m0plus": "UC_CPU_ARM_CORTEX_M0",
    "cortex-m0+": "UC_CPU_ARM_CORTEX_M0",
    "cortex-m1": "UC_CPU_ARM_CORTEX_M0",
    "cortex-m3": "UC_CPU_ARM_CORTEX_M3",
    "cortex-m4": "UC_CPU_ARM_CORTEX_M4",
    "cortex-m7": "UC_CPU_ARM_CORTEX_M7",
    "cortex-m23": "UC_CPU_ARM_CORTEX_M33",
    "cortex-m33": "UC_CPU_ARM_CORTEX_M33",
    "cortex-m35p": "UC_CPU_ARM_CORTEX_M33",
}

HOST_MARGIN_PERCENT: Final = 10  # added to the host estimate where nothing is measured


def probe_core(cpu: str, fpu: str = "") -> Optional[str]:
    """The core the probe emulates for a board's ``build.cpu`` and ``-mfpu``, None when it
    has none."""
    key = (cpu or "").strip().lower()
    return key if key in UNICORN_MODELS and not double_precision(fpu) else None


def double_precision(fpu: str) -> bool:
    """An FPU with double-precision instructions (fpv5-d16 of the Cortex-M7), which Unicorn's
    Cortex-M models do not execute; the single-precision ones (fpv4-sp-d16, fpv5-sp-d16) they
    do."""
    value = (fpu or "").strip().lower()
    return bool(value) and value not in ("auto", "none") and "-sp-" not in value


def why_not_probed(cpu: str, fpu: str) -> str:
    if double_precision(fpu):
        return f"the build's emulator has no double-precision FPU (-mfpu={fpu})"
    return f"the build's emulator has no {cpu or 'such'} core (Arm Cortex-M0 to M33 only)"
