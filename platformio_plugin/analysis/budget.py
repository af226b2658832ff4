"""Model flash + arena against the selected board's flash and RAM.

Checked before compiling, so "region FLASH overflowed" becomes a sentence with
numbers. Shown in PlatformIO's own bar style.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from ..config import BoardSpec, PluginConfig
from ..errors import BudgetError, ModelFileError


@dataclass(frozen=True)
class ModelCost:
    name: str
    flash: int  # model bytes
    arena: int  # kArenaSize


@dataclass(frozen=True)
class Budget:
    flash_used: int
    ram_used: int
    max_flash: int
    max_ram: int
    runtime_flash: int
    runtime_ram: int


def bar(label: str, used: int, total: int) -> str:
    """`RAM:   [==        ]  17.4% (used 22812 bytes from 131072 bytes)` as PlatformIO prints it."""
    ratio = used / total if total else 0.0
    filled = min(10, int(round(ratio * 10)))
    return (
        f"{label:<6} [{'=' * filled}{' ' * (10 - filled)}] {ratio * 100:5.1f}% "
        f"(used {used:,} bytes from {total:,} bytes)"
    )


def check_budget(
    costs: Sequence[ModelCost],
    board: BoardSpec,
    env_name: str,
    *,
    runtime_flash: int,
    runtime_ram: int,
    flash_measured: bool = False,
) -> Budget:
    """Raise BudgetError naming model, board and numbers when a model cannot fit.
    ``flash_measured``: runtime_flash is what the linker kept of TFLM for these ops (else the
    option's allowance)."""
    flash = sum(c.flash for c in costs) + runtime_flash
    ram = sum(c.arena for c in costs) + runtime_ram
    names = ", ".join(c.name for c in costs)
    if board.max_flash and flash > board.max_flash:
        models = " + ".join(f"model {c.name} {c.flash:,} B" for c in costs)
        runtime = (
            f"TFLite Micro runtime for these ops {runtime_flash:,} B, as linked"
            if flash_measured
            else f"TFLite Micro runtime {runtime_flash:,} B (custom_tinyml_runtime_flash)"
        )
        raise BudgetError(
            f"{names} needs {flash:,} B of flash ({models} + {runtime}; the rest of the "
            f"firmware is not counted) but board {board.board_id} in [env:{env_name}] "
            f"has {board.max_flash:,} B.",
            "Use a smaller model (fewer or narrower layers), fewer models "
            "(custom_tinyml_models), smaller kernels (custom_tinyml_kernel_optimization = "
            "-Os), or pick a board with more flash.",
        )
    if board.max_ram and ram > board.max_ram:
        biggest = max(costs, key=lambda c: c.arena)
        raise BudgetError(
            f"{names} needs {ram:,} B of RAM (arena {biggest.name} {biggest.arena:,} B + "
            f"runtime {runtime_ram:,} B) but board {board.board_id} in [env:{env_name}] "
            f"has {board.max_ram:,} B.",
            "Reduce the model's input size or channels, or pick a board with more RAM.",
        )
    return Budget(flash, ram, board.max_flash, board.max_ram, runtime_flash, runtime_ram)


def render_budget(budget: Budget) -> list[str]:
    lines = []
    if budget.max_flash:
        lines.append(bar("Flash:", budget.flash_used, budget.max_flash) + " model + runtime")
    if budget.max_ram:
        lines.append(bar("RAM:", budget.ram_used, budget.max_ram) + " arena + runtime")
    return lines


def check_env(
    config: PluginConfig, costs: Sequence[ModelCost], runtime_flash: Optional[int] = None
) -> Budget:
    """The env's models against its board: the runtime's flash as measured by the probe when
    given, else the env's runtime options."""
    return check_budget(
        costs,
        config.board,
        config.env_name,
        runtime_flash=config.options.runtime_flash if runtime_flash is None else runtime_flash,
        runtime_ram=config.options.runtime_ram,
        flash_measured=runtime_flash is not None,
    )


def _float_input(path: Path) -> bool:
    from .tflite_reader import parse_tflite

    try:
        model = parse_tflite(path.read_bytes(), path.name)
    except ModelFileError:
        return False  # a damaged file: the conversion's checks name what is wrong
    return bool(model.inputs) and model.tensor(model.inputs[0]).dtype == "float32"


def check_known_flash(config: PluginConfig) -> None:
    """An int8 .tflite is its own flash size: refuse an oversized one before converting
    anything (a float one shrinks about 4x when quantized, so it waits for its int8 size)."""
    costs = [
        ModelCost(spec.name, spec.path.stat().st_size, 0)
        for spec in config.models
        if spec.fmt == ".tflite" and not _float_input(spec.path)
    ]
    if costs:
        check_env(config, costs)
