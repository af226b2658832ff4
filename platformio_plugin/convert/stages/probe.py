"""The probe run: the env's linked probe program (see ``probe/harness``) in Unicorn's Cortex-M
core, per model: the smallest arena with which AllocateTensors and Invoke succeed, the golden
vectors against TFLM's interpreter on the host, instructions per op, and the stack used.

Unicorn (QEMU's CPU emulation as a library, from PyPI with wheels for Linux, macOS and
Windows) runs the same machine code as the board: the program is called one function at a
time, a block hook counts instructions, and a code hook on the harness's marker functions
sees each op start and end, every line TFLM prints, and abort()/exit().
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ...errors import ProbeError
from ...probe.cores import UNICORN_MODELS
from ...probe.elf import ElfImage, read_elf

MODEL_BASE = 0x1000_0000  # the flatbuffer, as in flash
RAM_BASE, RAM_SIZE = 0x2000_0000, 16 << 20  # .data, .bss, heap, stack (probe.ld)
ARENA_END = 0x3100_0000  # the arena ends where the mapping ends: an overrun faults
ARENA_MAX = 16 << 20
STOP = 0x0FFF_FF00  # return address of every call: emulation stops there
STACK_PATTERN = 0xA5
STACK_WATCH = 1 << 20  # the top 1 MB of RAM is checked for the stack's high-water mark
ALIGN = 16  # TFLM's arena alignment (MicroArenaBufferAlignment)
CALL_BUDGET = 50_000_000  # instructions for a call that is not an Invoke


def _thumb_count(code: bytes) -> int:
    """Instructions in a run of Thumb code: 32-bit ones start with 0b11101/0b11110/0b11111."""
    count = i = 0
    while i + 1 < len(code):
        i += 4 if (code[i + 1] >> 3) in (0x1D, 0x1E, 0x1F) else 2
        count += 1
    return count


@dataclass
class CallOutcome:
    value: int = 0
    fault: str = ""  # what stopped the call when it did not return
    op_index: int = -1  # the op running when it stopped
    op_name: str = ""


@dataclass
class Machine:
    """One emulated core with the probe program loaded."""

    image: ElfImage
    core: str
    uc: Any = None
    instructions: int = 0
    counter: Any = None  # the block hook's handle while instructions are counted
    block_sizes: dict[int, int] = field(default_factory=dict)
    ops: list[dict[str, Any]] = field(default_factory=list)
    open_ops: list[tuple[int, int]] = field(default_factory=list)  # (op index, count at begin)
    op_names: dict[int, str] = field(default_factory=dict)
    next_op: int = 0
    last_op: tuple[int, str] = (-1, "")
    log: list[str] = field(default_factory=list)
    trap: Optional[int] = None
    arena_mapped: int = 0

    def start(self) -> None:
        import unicorn
        from unicorn import arm_const

        uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(getattr(arm_const, UNICORN_MODELS[self.core]))
        top = max(s.address + s.size for s in self.image.segments if s.address < MODEL_BASE)
        uc.mem_map(0, _page(max(top, STOP + 0x100)))
        uc.mem_map(RAM_BASE, RAM_SIZE)
        for segment in self.image.segments:
            uc.mem_write(segment.address, segment.data)
        uc.mem_write(RAM_BASE + RAM_SIZE - STACK_WATCH, bytes([STACK_PATTERN]) * STACK_WATCH)
        try:  # CP10/CP11 full access: the FPU of M4F/M7/M33 (ignored where there is none)
            cpacr = uc.reg_read(arm_const.UC_ARM_REG_C1_C0_2)
            uc.reg_write(arm_const.UC_ARM_REG_C1_C0_2, cpacr | (0xF << 20))
        except unicorn.UcError:
            pass
        self.uc = uc
        for name, handler in (
            ("tinyml_probe_event", self._on_event),
            ("tinyml_probe_log", self._on_log),
            ("tinyml_probe_trap", self._on_trap),
        ):
            address = self.image.address(name)
            uc.hook_add(unicorn.UC_HOOK_CODE, handler, begin=address, end=address)
        uc.hook_add(unicorn.UC_HOOK_INTR, self._on_interrupt)
        self.call("tinyml_probe_init")

    # --- hooks -------------------------------------------------------------------------
    def count_instructions(self, on: bool) -> None:
        """A hook on every executed block while on (it costs a Python call per block, so only
        the profiled Invoke has it)."""
        import unicorn

        if on and self.counter is None:
            self.counter = self.uc.hook_add(unicorn.UC_HOOK_BLOCK, self._on_block)
        elif not on and self.counter is not None:
            self.uc.hook_del(self.counter)
            self.counter = None
        else:
            return
        # Code translated before the change would keep running with (or without) the hook.
        self.uc.ctl_flush_tb()

    def _on_block(self, uc: Any, address: int, size: int, _data: Any) -> None:
        count = self.block_sizes.get(address)
        if count is None:
            count = self.block_sizes[address] = _thumb_count(bytes(uc.mem_read(address, size)))
        self.instructions += count

    def _on_event(self, uc: Any, _address: int, _size: int, _data: Any) -> None:
        from unicorn import arm_const

        kind = uc.reg_read(arm_const.UC_ARM_REG_R0)
        if kind == 1:
            if self.open_ops:  # an op of a subgraph (WHILE, IF): counted in its caller's op
                self.open_ops.append((-1, self.instructions))
                return
            index = self.next_op
            self.next_op += 1
            name = self.op_names.get(index)
            if name is None:
                name = self.op_names[index] = self._string(uc.reg_read(arm_const.UC_ARM_REG_R1))
            self.open_ops.append((index, self.instructions))
            self.last_op = (index, name)
        elif self.open_ops:
            index, begun = self.open_ops.pop()
            if index >= 0:
                self.ops.append({"index": index, "instructions": self.instructions - begun})

    def _on_log(self, uc: Any, _address: int, _size: int, _data: Any) -> None:
        from unicorn import arm_const

        text = uc.reg_read(arm_const.UC_ARM_REG_R0)
        length = uc.reg_read(arm_const.UC_ARM_REG_R1)
        line = bytes(uc.mem_read(text, min(length, 512))).decode("utf-8", "replace")
        self.log.append(line.rstrip())

    def _on_trap(self, uc: Any, _address: int, _size: int, _data: Any) -> None:
        from unicorn import arm_const

        self.trap = uc.reg_read(arm_const.UC_ARM_REG_R0)
        uc.emu_stop()

    def _on_interrupt(self, uc: Any, number: int, _data: Any) -> None:
        if self.trap is None:
            self.trap = 0x200 | number
        uc.emu_stop()

    def _string(self, address: int) -> str:
        if not address:
            return "?"
        raw = bytes(self.uc.mem_read(address, 64))
        return raw.split(b"\0", 1)[0].decode("ascii", "replace")

    # --- calls -------------------------------------------------------------------------
    def call(self, name: str, *args: int, budget: int = CALL_BUDGET) -> CallOutcome:
        import unicorn
        from unicorn import arm_const

        uc = self.uc
        for reg, value in zip(
            (arm_const.UC_ARM_REG_R0, arm_const.UC_ARM_REG_R1,
             arm_const.UC_ARM_REG_R2, arm_const.UC_ARM_REG_R3), args,
        ):  # fmt: skip
            uc.reg_write(reg, value & 0xFFFFFFFF)
        uc.reg_write(arm_const.UC_ARM_REG_SP, RAM_BASE + RAM_SIZE - 64)
        uc.reg_write(arm_const.UC_ARM_REG_LR, STOP | 1)
        self.trap = None
        self.next_op = 0
        self.open_ops.clear()
        self.last_op = (-1, "")
        fault = ""
        try:
            uc.emu_start(self.image.address(name) | 1, STOP, count=budget)
        except unicorn.UcError as exc:
            pc = uc.reg_read(arm_const.UC_ARM_REG_PC)
            fault = f"{exc} at 0x{pc:08x} in {self.image.function_at(pc)}"
        pc = uc.reg_read(arm_const.UC_ARM_REG_PC)
        if not fault and self.trap is not None:
            if self.trap >= 0x200:
                where = f"0x{pc:08x} in {self.image.function_at(pc)}"
                fault = f"CPU exception {self.trap - 0x200} at {where}"
            else:
                fault = f"abort()/exit({self.trap & 0xFF}) called"
            chain = self.callers()
            if chain:
                fault += f" (from {chain})"
        elif not fault and pc & ~1 != STOP:
            fault = (
                f"no return after {budget:,} instructions (a hang?) at 0x{pc:08x} in "
                f"{self.image.function_at(pc)}"
            )
        if "UC_ERR_INSN_INVALID" in fault:
            fault += (
                " (an instruction the emulated core does not execute: if the board's core has "
                "it, set custom_tinyml_probe = no)"
            )
        outcome = CallOutcome(uc.reg_read(arm_const.UC_ARM_REG_R0), fault)
        if fault and self.last_op[0] >= 0:
            outcome.op_index, outcome.op_name = self.last_op
        return outcome

    def callers(self, depth: int = 6) -> str:
        """The functions on the stack, innermost first: return addresses found in the stack's
        words (a scan, not an unwind: enough to name where an abort came from)."""
        from unicorn import arm_const

        sp = self.uc.reg_read(arm_const.UC_ARM_REG_SP)
        top = RAM_BASE + RAM_SIZE - 64
        words = bytes(self.uc.mem_read(sp, max(0, min(top - sp, 4096))))
        names: list[str] = []
        skip = {"tinyml_probe_trap", "tinyml_probe_log", "tinyml_probe_event", "_exit",
                 "abort", "exit", "raise", "_raise_r", "_kill_r",
                "_kill", "__assert_func"}  # fmt: skip
        for i in range(0, len(words) - 3, 4):
            value = int.from_bytes(words[i : i + 4], "little")
            if not value & 1 or not self.image.is_code(value & ~1):
                continue
            name = self.image.function_at((value & ~1) - 2)
            if name.startswith("0x") or name in skip or (names and names[-1] == name):
                continue
            names.append(name)
            if len(names) == depth:
                break
        return " <- ".join(_demangled(names))

    def place_arena(self, size: int) -> int:
        """The arena's address for ``size`` bytes, ending at the end of its mapping."""
        mapped = _page(size)
        if mapped > self.arena_mapped:
            if self.arena_mapped:
                self.uc.mem_unmap(ARENA_END - self.arena_mapped, self.arena_mapped)
            self.uc.mem_map(ARENA_END - mapped, mapped)
            self.arena_mapped = mapped
        return ARENA_END - size

    def stack_used(self) -> int:
        watch = bytes(self.uc.mem_read(RAM_BASE + RAM_SIZE - STACK_WATCH, STACK_WATCH))
        untouched = len(watch) - len(watch.lstrip(bytes([STACK_PATTERN])))
        return STACK_WATCH - untouched - 64


def _demangled(names: list[str]) -> list[str]:
    """C++ names readable where a ``c++filt`` is on the PATH (binutils); as they are else.
    Parameter lists are left out: the function's name is what the message needs."""
    import shutil
    import subprocess

    tool = shutil.which("c++filt") or shutil.which("arm-none-eabi-c++filt")
    if tool is None or not names:
        return names
    try:
        out = subprocess.run(
            [tool], input="\n".join(names), capture_output=True, text=True, timeout=10,
            check=True,
        ).stdout.splitlines()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return names
    if len(out) != len(names):
        return names
    return [line.replace("(anonymous namespace)", "{anon}").split("(", 1)[0] for line in out]


def _page(size: int) -> int:
    return max(0x1000, (size + 0xFFF) & ~0xFFF)


def _align(size: int) -> int:
    return (size + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class ModelRun:
    """One model on one machine."""

    machine: Machine
    index: int
    label: str
    env: str
    data: bytes
    budget: int
    runtime: str = "tflm"  # "aot": the probe program runs the ahead-of-time code

    def load(self) -> None:
        self.machine.uc.mem_map(MODEL_BASE, _page(len(self.data)))
        self.machine.uc.mem_write(MODEL_BASE, self.data)

    def unload(self) -> None:
        self.machine.uc.mem_unmap(MODEL_BASE, _page(len(self.data)))

    def begin(self, size: int, profile: bool = False) -> CallOutcome:
        arena = self.machine.place_arena(size)
        self.machine.log.clear()
        flags = self.index | (0x10000 if profile else 0)
        return self.machine.call("tinyml_probe_begin", flags, MODEL_BASE, arena, size)

    def tensor(self, output: bool) -> tuple[int, int]:
        address = self.machine.call("tinyml_probe_tensor_data", int(output), 0).value
        size = self.machine.call("tinyml_probe_tensor_bytes", int(output), 0).value
        return address, size

    def run_vector(self, vector: bytes) -> tuple[CallOutcome, bytes]:
        address, size = self.tensor(False)
        if size != len(vector):
            raise self.error(
                f"its input tensor has {size} bytes, the golden vector {len(vector)}", None
            )
        self.machine.uc.mem_write(address, vector)
        outcome = self.machine.call("tinyml_probe_invoke", budget=self.budget)
        if outcome.fault or outcome.value != 0:
            return outcome, b""
        address, size = self.tensor(True)
        return outcome, bytes(self.machine.uc.mem_read(address, size))

    def error(self, what: str, outcome: Optional[CallOutcome], hint: str = "") -> ProbeError:
        where = ""
        if outcome is not None and outcome.op_index >= 0:
            where = f" in op #{outcome.op_index} {outcome.op_name}"
        seen = "; ".join(line for line in self.machine.log[-4:] if line)
        message = (
            f"{self.label} does not run on the emulated {self.machine.core} "
            f"(env {self.env}){where}: {what}"
        )
        if self.runtime == "aot":
            message = (
                f"{self.label}: its ahead-of-time code fails the build's check on the emulated "
                f"{self.machine.core} (env {self.env}): {what}"
            )
        if seen:
            message += f"\n       TFLite Micro printed: {seen}"
        if not hint and self.runtime == "aot":
            hint = AOT_HINT
        return ProbeError(
            message,
            hint
            or "The op named above fails on this core; change that layer, or try "
            "custom_tinyml_kernels = reference to see whether the kernel is the cause.",
        )


def _begin_failed(run: ModelRun, value: int) -> str:
    """Why tinyml_probe_begin returned ``value`` (not 0)."""
    if run.runtime == "aot":
        return AOT_BEGIN.get(value, f"begin() returned {value}")
    return "AllocateTensors failed"


def _invoke_fails(run: ModelRun, size: int, vector: bytes) -> Optional[str]:
    """None when a fresh interpreter with ``size`` bytes allocates and invokes; else why not."""
    outcome = run.begin(size)
    if outcome.fault:
        return outcome.fault
    if outcome.value != 0:
        return _begin_failed(run, outcome.value)
    outcome, _ = run.run_vector(vector)
    if outcome.fault:
        return outcome.fault
    return "Invoke failed" if outcome.value != 0 else None


def _allocate_fails(run: ModelRun, size: int, vector: bytes) -> Optional[str]:  # noqa: ARG001
    """None when a fresh interpreter with ``size`` bytes allocates its tensors."""
    outcome = run.begin(size)
    if outcome.fault:
        return outcome.fault
    return _begin_failed(run, outcome.value) if outcome.value != 0 else None


def smallest_arena(run: ModelRun, used: int, vector: bytes) -> int:
    """The smallest arena (16-byte steps) with which AllocateTensors and Invoke succeed: a
    bisection on AllocateTensors (TFLM plans everything, scratch buffers included, there),
    then Invoke at that size; should Invoke need more (a kernel's temporary allocations), a
    bisection with Invoke above it."""
    size = _search(run, used, vector, _allocate_fails)
    if _invoke_fails(run, size, vector) is None:
        return size
    return _search(run, size + ALIGN, vector, _invoke_fails)


def _search(run: ModelRun, start: int, vector: bytes, fails: Any) -> int:
    """Bisection in 16-byte steps between a size that fails and one that works, from
    ``start``."""
    high = _align(start)
    while fails(run, high, vector) is not None:
        if high >= ARENA_MAX:
            raise run.error(f"AllocateTensors or Invoke fails even with {ARENA_MAX:,} B", None)
        high = min(ARENA_MAX, high * 2)
    low = high - ALIGN
    step = ALIGN
    while low > 0 and fails(run, low, vector) is None:  # search down, doubling
        high = low
        step *= 2
        low = max(0, high - step)
    while high - low > ALIGN:
        middle = _align((low + high) // 2)
        if middle >= high:
            break
        if fails(run, middle, vector) is None:
            high = middle
        else:
            low = middle
    return high


def probe_model(machine: Machine, spec: dict[str, Any], env: str, budget: int) -> dict[str, Any]:
    data = Path(spec["tflite"]).read_bytes()
    golden = json.loads(Path(spec["golden"]).read_text(encoding="utf-8"))
    vectors = [bytes(v & 0xFF for v in vec["input"]) for vec in golden["vectors"]]
    expected = [bytes(v & 0xFF for v in vec["output"]) for vec in golden["vectors"]]
    run = ModelRun(
        machine, int(spec["index"]), str(spec["label"]), env, data, budget,
        str(spec.get("runtime", "tflm")),
    )  # fmt: skip
    run.load()
    try:
        return _probe_loaded(run, spec, vectors, expected)
    finally:
        run.unload()


def _probe_loaded(
    run: ModelRun, spec: dict[str, Any], vectors: list[bytes], expected: list[bytes]
) -> dict[str, Any]:
    machine = run.machine
    forced = spec.get("arena")
    first = vectors[0] if vectors else b""
    # 1. A large arena, the profiler on: does it allocate and run at all, and where does the
    #    time go?
    outcome = run.begin(ARENA_MAX, profile=True)
    if outcome.fault or outcome.value != 0:
        failed = outcome.fault or f"{_begin_failed(run, outcome.value)} even with 16 MB"
        raise run.error(failed, outcome)
    used = machine.call("tinyml_probe_arena_used").value
    if not first:  # no golden vectors: zeros
        first = bytes(run.tensor(False)[1])
    machine.ops.clear()
    machine.instructions = 0
    machine.count_instructions(True)
    try:
        outcome, _ = run.run_vector(first)
    finally:
        machine.count_instructions(False)
    if outcome.fault:
        raise run.error(outcome.fault, outcome)
    if outcome.value != 0:
        raise run.error("Invoke returned an error", outcome)
    total = machine.instructions
    names = dict(machine.op_names)
    profile = [
        {
            "index": op["index"],
            "op": names.get(op["index"], "?"),
            "instructions": op["instructions"],
        }
        for op in sorted(machine.ops, key=lambda o: int(o["index"]))
    ]
    stack = machine.stack_used()
    # 2. The arena: the user's, checked; or the smallest that works.
    if forced:
        size = int(forced)
        why = _invoke_fails(run, size, first)
        if why is not None:
            raise run.error(
                f"with custom_tinyml_arena_size = {size:,} B: {why} (it needs {_align(used):,} B "
                "or more)",
                None,
                "Raise custom_tinyml_arena_size, or remove it to use the measured size.",
            )
    else:
        size = smallest_arena(run, used, first)
    # 3. The golden vectors, each from a fresh interpreter with that arena, byte for byte.
    for k, (vector, want) in enumerate(zip(vectors, expected)):
        outcome = run.begin(size)
        if outcome.fault or outcome.value != 0:
            raise run.error(outcome.fault or _begin_failed(run, outcome.value), outcome)
        outcome, got = run.run_vector(vector)
        if outcome.fault or outcome.value != 0:
            raise run.error(f"golden vector {k}: {outcome.fault or 'Invoke failed'}", outcome)
        if got != want and run.runtime == "aot":
            raise run.error(aot_mismatch(k, got, want), None)
        if got != want:
            j = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
            last = profile[-1] if profile else {"index": -1, "op": "?"}
            differ = sum(1 for a, b in zip(got, want) if a != b)
            raise run.error(
                f"golden vector {k} differs from TFLM's interpreter on the host: output byte {j} "
                f"is {_s8(got[j])}, expected {_s8(want[j])} ({differ} of {len(want)} bytes "
                f"differ; the output comes from op #{last['index']} {last['op']})",
                None,
                "The kernels compiled for this core compute another result than TFLM's "
                "reference; try custom_tinyml_kernels = reference to narrow it down.",
            )
    return {
        "arena": size,
        "arena_forced": bool(forced),
        "arena_used_large": used,
        "instructions": total,
        "profile": profile,
        "stack_bytes": stack,
        "vectors": len(vectors),
    }


def _s8(value: int) -> int:
    return value - 256 if value > 127 else value


# The ahead-of-time code (harness/aot_probe.cc): what its begin() returns, and the fix.
AOT_BEGIN = {
    1: "the probe program has no ahead-of-time code for this model",
    2: "the arena is smaller than the build's arena plan",
    4: "AotCheck failed: CMSIS-NN asks for a larger scratch buffer than the build planned",
}
AOT_HINT = (
    "Build this env with custom_tinyml_runtime = tflm (TFLM's interpreter) and report the model "
    "to pio-tinyml; golden vectors edited by hand are made again by `pio run -t "
    "tinyml-clean-cache` and a build."
)


def aot_mismatch(k: int, got: bytes, want: bytes) -> str:
    """What a golden vector's output of the ahead-of-time code shows against the host's."""
    if len(got) != len(want):
        return (
            f"golden vector {k}: the ahead-of-time code's output has {len(got)} bytes, TFLM's "
            f"interpreter on the host {len(want)}"
        )
    j = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
    differ = sum(1 for a, b in zip(got, want) if a != b)
    return (
        f"golden vector {k} differs from TFLM's interpreter on the host: output byte {j} of "
        f"the ahead-of-time code is {_s8(got[j])}, expected {_s8(want[j])} ({differ} of "
        f"{len(want)} bytes differ)"
    )


def run(request: dict[str, Any]) -> dict[str, Any]:
    core = str(request["core"])
    if core not in UNICORN_MODELS:
        raise ProbeError(f"the probe has no emulated core for {core}", "")
    image = read_elf(Path(request["elf"]))
    results = {}
    for spec in request["models"]:
        machine = Machine(image, core)  # a fresh core per model: nothing carries over
        machine.start()
        results[str(spec["name"])] = probe_model(
            machine, spec, str(request["env"]), int(request.get("budget", 2_000_000_000))
        )
    return {"core": core, "models": results}
