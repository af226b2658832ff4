"""Kernel choice per CPU: CMSIS-NN on Arm Cortex-M, TFLM's reference kernels elsewhere.

Pure: board manifest values in, a ``KernelChoice`` out. The SCons side prints the
``summary`` line and, when set, the ``warning`` text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Optional

from ..errors import ConfigError

KERNEL_OPTIONS: Final = ("auto", "cmsis-nn", "reference")

# Cortex-M cores with the DSP extension (SIMD on 8/16-bit lanes) or Helium (MVE).
_DSP_CORES: Final[dict[str, str]] = {
    "cortex-m4": "Cortex-M4, DSP",
    "cortex-m7": "Cortex-M7, DSP",
    "cortex-m33": "Cortex-M33, DSP",
    "cortex-m35p": "Cortex-M35P, DSP",
    "cortex-m52": "Cortex-M52, Helium",
    "cortex-m55": "Cortex-M55, Helium",
    "cortex-m85": "Cortex-M85, Helium",
}
# Cortex-M cores without DSP: CMSIS-NN still builds (portable C path).
_PLAIN_CORES: Final[dict[str, str]] = {
    "cortex-m0": "Cortex-M0",
    "cortex-m0plus": "Cortex-M0+",
    "cortex-m0+": "Cortex-M0+",
    "cortex-m1": "Cortex-M1",
    "cortex-m3": "Cortex-M3",
    "cortex-m23": "Cortex-M23",
}


@dataclass(frozen=True)
class KernelChoice:
    """Which kernels a build uses and why."""

    kernels: str  # "cmsis-nn" or "reference"
    cpu: str  # the board's build.cpu, "" when the board has none
    reason: str  # e.g. "cortex-m4, DSP" or "esp32 is not an Arm Cortex-M"
    dsp: bool  # CMSIS-NN's DSP / MVE paths are used
    warning: Optional[str] = None  # "Warning! ..." text to print, if any

    @property
    def cmsis_nn(self) -> bool:
        return self.kernels == "cmsis-nn"

    @property
    def summary(self) -> str:
        """One line for the build log: ``kernels: CMSIS-NN (cortex-m4, DSP)``."""
        name = "CMSIS-NN" if self.cmsis_nn else "reference"
        return f"kernels: {name} ({self.reason})"


def _no_dsp_warning(board: str, label: str) -> str:
    return (
        f"Warning! Board {board} has a {label} without DSP/SIMD instructions: CMSIS-NN runs its "
        "portable C path here,\n         expect several times more instructions per inference "
        "than on a Cortex-M4 for convolution-heavy models."
    )


def choose_kernels(
    *,
    board: str,
    cpu: str,
    mcu: str = "",
    option: str = "auto",
    where: str = "custom_tinyml_kernels",
) -> KernelChoice:
    """Kernels for a board from its ``build.cpu`` (``build.mcu`` only for messages).

    ``option`` is the user's ``auto|cmsis-nn|reference``; ``where`` names it in errors.
    """
    option = (option or "auto").strip().lower()
    if option not in KERNEL_OPTIONS:
        raise ConfigError(
            f"{where} = {option!r} is not a kernel choice",
            hint="Use one of: " + ", ".join(KERNEL_OPTIONS),
        )
    cpu_key = (cpu or "").strip().lower()
    label_dsp = _DSP_CORES.get(cpu_key)
    label_plain = _PLAIN_CORES.get(cpu_key)
    arm_m = label_dsp is not None or label_plain is not None
    what = cpu_key or mcu.strip().lower() or "this CPU"

    if option == "reference":
        return KernelChoice("reference", cpu_key, f"{what}, {where} = reference", dsp=False)
    if option == "cmsis-nn" and not arm_m:
        raise ConfigError(
            f"{where} = cmsis-nn needs an Arm Cortex-M CPU, but board {board} has {what}",
            hint=f"Remove {where} (auto picks the reference kernels here) or set it to reference.",
        )
    if label_dsp is not None:
        return KernelChoice("cmsis-nn", cpu_key, f"{cpu_key}, {label_dsp.split(', ')[1]}", True)
    if label_plain is not None:
        return KernelChoice(
            "cmsis-nn",
            cpu_key,
            f"{cpu_key}, portable C",
            dsp=False,
            warning=_no_dsp_warning(board, label_plain),
        )
    return KernelChoice("reference", cpu_key, f"{what} is not an Arm Cortex-M", dsp=False)
