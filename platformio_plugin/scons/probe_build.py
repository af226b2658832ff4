"""The probe at build time: once the env's TFLite Micro archive exists, link the probe program
from it (``probe/harness``: the same archive, machine flags and kernels as the firmware, the
probe's own memory map), run each model in it on an emulated core of the env's kind, and
write each model's ``tinyml/<name>_arena.h`` from what was measured.

The arena headers are targets of one SCons command whose sources are the probe program, the
int8 models and their golden vectors: the project's sources include them (through the model
headers), so SCons compiles nothing that needs kArenaSize before the probe has run. Results
are also kept in ``<core_dir>/tinyml/probe/`` by content hash: a build after ``pio run -t
clean`` relinks the probe and reads the result instead of running it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Optional

from .. import files
from ..config import PluginConfig
from ..convert.protocol import GOLDEN_NAME
from ..errors import TinyMLError
from ..results import PreparedEnv, PreparedModel
from .tflm_build import LIBRARY_NAME, LinkedLibrary, machine_flags

HARNESS = Path(__file__).resolve().parents[1] / "probe" / "harness"
PROBE_VERSION = "5"  # bump when the harness or the measurement changes
LINK_FLAGS = ("-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections")

Log = Callable[[str], None]

# What the probe action needs. Module state, not a closure: SCons fingerprints an action's
# closure on every build.
_STATE: dict[str, Any] = {}


def probe_dir(config: PluginConfig) -> Path:
    return config.build_dir / "tinyml-probe"


def result_path(config: PluginConfig) -> Path:
    return probe_dir(config) / "result.json"


def _golden(model: PreparedModel) -> Path:
    return Path(model.tflite).parent / GOLDEN_NAME


def add_probe(
    env: Any,
    linked: LinkedLibrary,
    config: PluginConfig,
    prepared: PreparedEnv,
    core: str,
    core_dir: Path,
    log: Log,
) -> None:
    """Link the probe and make every model's arena header depend on its run."""
    from SCons.Action import Action

    out = probe_dir(config)
    program = _probe_program(env, linked, out, core_dir / "tinyml" / "probe", log)
    headers = [str(config.generated_dir / "tinyml" / f"{m.name}_arena.h") for m in prepared.models]
    sources = [program, *(str(m.tflite) for m in prepared.models)]
    sources += [str(_golden(m)) for m in prepared.models]
    request = {
        "core": core,
        "env": config.env_name,
        "arena": config.options.arena_size,
        "models": [m.fingerprint for m in prepared.models],
        "version": PROBE_VERSION,
    }
    _STATE.update(config=config, prepared=prepared, core=core, log=log, core_dir=str(core_dir))
    command = env.Command(
        [*headers, str(result_path(config))],
        sources,
        Action(_probe_action, strfunction=_silent, varlist=["TINYML_PROBE"]),
        TINYML_PROBE=json.dumps(request, sort_keys=True),
    )
    env.Precious(command)  # a failed run leaves the previous headers, and fails again


def _link_flags(probe_env: Any, map_path: Path) -> list[str]:
    return [
        *machine_flags(probe_env["CCFLAGS"]),
        *LINK_FLAGS,
        "-T",
        str(HARNESS / "probe.ld"),
        "-Wl,-Map," + str(map_path),
    ]


def _program_key(linked: LinkedLibrary, probe_env: Any, ops: Path) -> str:
    """What decides the probe program's bytes: the TFLM archive's key (compiler, flags, ops,
    sources), the op registrations, the harness and the link flags. '' when the archive has
    no key (no shared cache)."""
    if not linked.key:
        return ""
    digest = hashlib.sha256(f"{PROBE_VERSION}\n{linked.key}\n".encode())
    for path in (ops, HARNESS / "probe.cc", HARNESS / "probe.ld"):
        digest.update(path.read_bytes())
    digest.update(" ".join(_link_flags(probe_env, Path("probe.map"))).encode())
    return digest.hexdigest()[:24]


def _probe_program(env: Any, linked: LinkedLibrary, out: Path, cache: Path, log: Log) -> Any:
    """The probe program: from the shared cache when one with the same key was linked before
    (a build after `pio run -t clean` compiles nothing for it), else compiled and linked here
    from the env's TFLM archive, and stored."""
    key = _program_key(linked, linked.lib_env, out / "ops.cc")
    cached = cache / f"program-{key}" / "probe.elf" if key else None
    if cached is not None and cached.is_file() and cached.with_suffix(".map").is_file():
        return env.File(str(cached))
    probe_env = linked.lib_env.Clone()
    ccflags = [*probe_env["CCFLAGS"], "-Os"]
    objects = [
        probe_env.Object(target=str(out / "probe.o"), source=str(HARNESS / "probe.cc"),
                         CCFLAGS=ccflags),
        probe_env.Object(target=str(out / "ops.o"), source=str(out / "ops.cc"), CCFLAGS=ccflags),
    ]  # fmt: skip
    program = probe_env.Program(
        target=str(out / "probe.elf"),
        source=objects,
        LIBS=[linked.archive, "m"],
        LIBPATH=[],
        LINKFLAGS=_link_flags(probe_env, out / "probe.map"),
        PROGSUFFIX=".elf",
    )
    if cached is not None:
        from SCons.Action import Action
        from SCons.Environment import Base

        store = Action(_store_program(cached), strfunction=_silent)
        Base.AddPostAction(probe_env, program, store)
    return program


def _store_program(cached: Path) -> Callable[..., int]:
    def store(target: Any, source: Any, env: Any) -> int:  # noqa: ARG001 (SCons signature)
        elf = Path(target[0].get_abspath())
        staging = cached.parent.with_name(cached.parent.name + ".none")
        try:  # a read-only or full core dir: the next build links the probe again
            staging = files.staging_dir(cached.parent)
            shutil.copyfile(elf, staging / "probe.elf")
            shutil.copyfile(elf.with_suffix(".map"), staging / "probe.map")
            files.publish_dir(staging, cached.parent)
        except (OSError, TinyMLError):
            shutil.rmtree(staging, ignore_errors=True)
        return 0

    return store


def _silent(*_args: Any, **_kwargs: Any) -> None:
    """SCons would print the Python action's call; the action logs its own lines."""


def _probe_action(target: Any, source: Any, env: Any) -> int:  # noqa: ARG001 (SCons signature)
    import sys

    config: PluginConfig = _STATE["config"]
    try:
        run_probe(
            config, _STATE["prepared"], _STATE["core"], Path(source[0].get_abspath()), _STATE["log"]
        )
    except TinyMLError as error:
        sys.stderr.write(f"Error: {error.render()}\n")
        sys.stderr.flush()
        return 1
    return 0


def _cache_key(elf: Path, prepared: PreparedEnv, core: str, arena: Optional[int]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{PROBE_VERSION}\n{core}\n{arena}\n".encode())
    digest.update(elf.read_bytes())
    for model in prepared.models:
        digest.update(model.name.encode() + b"\0")
        digest.update(Path(model.tflite).read_bytes())
        digest.update(_golden(model).read_bytes())
    return digest.hexdigest()


def run_probe(
    config: PluginConfig, prepared: PreparedEnv, core: str, elf: Path, log: Log
) -> dict[str, Any]:
    """The probe's result for the env (cached by content), the arena headers written, and
    the RAM budget checked with the measured arenas."""
    from ..analysis import budget
    from ..codegen.model_files import render_arena_header

    cache_root = _cache_root(config)
    key = _cache_key(elf, prepared, core, config.options.arena_size)
    cached = cache_root / f"{key[:32]}.json" if cache_root else None
    result: Optional[dict[str, Any]] = None
    if cached is not None and cached.is_file():
        try:
            result = json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            result = None
    if result is None:
        result = _run(config, prepared, core, elf, log)
        if cached is not None:
            # A read-only core dir: the next clean build runs the probe again.
            with contextlib.suppress(OSError):
                files.write_atomic(cached, json.dumps(result, indent=1, sort_keys=True))
    else:
        log(f"probe: results of the emulated {core} reused (nothing changed)")
    for model in prepared.models:
        measured = result["models"][model.name]
        how = (
            "custom_tinyml_arena_size, checked by the build on the emulated " + core
            if measured["arena_forced"]
            else f"Measured by the build on the emulated {core}: the smallest arena with which "
            "AllocateTensors and Invoke succeed (16-byte steps)."
        )
        files.write_if_changed(
            config.generated_dir / "tinyml" / f"{model.name}_arena.h",
            render_arena_header(model.name, model.source, model.fingerprint,
                                int(measured["arena"]), how),
        )  # fmt: skip
        log(summary_line(model, measured, core, config.board.f_cpu))
    result["runtime_flash"] = runtime_flash(elf.with_suffix(".map"), linked_archive_name())
    if result["runtime_flash"]:
        log(
            f"TFLite Micro + kernels for these ops: {result['runtime_flash']:,} B of flash, "
            "as linked (the flash budget counts this)"
        )
    files.write_if_changed(result_path(config), json.dumps(result, indent=1, sort_keys=True))
    budget.check_env(
        config,
        [
            budget.ModelCost(m.name, m.flash, int(result["models"][m.name]["arena"]))
            for m in prepared.models
        ],
        runtime_flash=result["runtime_flash"] or None,
    )
    return result


def linked_archive_name() -> str:
    return f"lib{LIBRARY_NAME}.a"


def runtime_flash(map_path: Path, archive: str) -> int:
    """Flash the linker kept from the TFLM archive in the probe (0 when there is no map)."""
    from ..probe.linkmap import flash_bytes

    try:
        return flash_bytes(map_path.read_text(encoding="utf-8", errors="replace"), archive)
    except OSError:
        return 0


def _cache_root(config: PluginConfig) -> Optional[Path]:
    core = _STATE.get("core_dir")
    return Path(core) / "tinyml" / "probe" if core else None


def _run(
    config: PluginConfig, prepared: PreparedEnv, core: str, elf: Path, log: Log
) -> dict[str, Any]:
    names = ", ".join(m.name for m in prepared.models)
    result = run_probe_worker(
        Path(_STATE["core_dir"]), config, prepared, core, elf, log,
        announce=f"probe: running {names} on the emulated {core} (arena, golden vectors, "
        "profile) ...",
        arena=config.options.arena_size,
    )  # fmt: skip
    return {"core": result["core"], "models": result["models"]}


def run_probe_worker(
    core_dir: Path,
    config: PluginConfig,
    prepared: PreparedEnv,
    core: str,
    elf: Path,
    log: Log,
    *,
    announce: str,
    arena: Optional[int],
    model_fields: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    """The probe step in the converter environment: ``elf`` run on the emulated ``core`` for
    every model of the env (the interpreter's probe and the ahead-of-time one alike)."""
    from ..convert.environment import ensure_converter_python
    from ..convert.runner import run_worker

    python = ensure_converter_python(core_dir, log)
    log(announce)
    started = time.monotonic()
    request = {
        "step": "probe",
        "tag": "probe",
        "elf": str(elf),
        "core": core,
        "env": config.env_name,
        "models": [
            {
                "index": i,
                "name": m.name,
                "label": m.source,
                "tflite": str(m.tflite),
                "golden": str(_golden(m)),
                "arena": arena,
                **(model_fields or {}),
            }
            for i, m in enumerate(prepared.models)
        ],
    }
    result: dict[str, Any] = run_worker(python, request, probe_dir(config) / "logs", step="probe")
    log(f"probe: done in {time.monotonic() - started:.1f} s")
    return result


def summary_line(model: PreparedModel, measured: dict[str, Any], core: str, f_cpu: int) -> str:
    """One line per model: the arena, the golden check, the instructions per inference."""
    arena = int(measured["arena"])
    what = "checked" if measured["arena_forced"] else "measured"
    line = (
        f"{model.name}: arena {arena:,} B {what} on the emulated {core} "
        f"(host estimate {model.arena:,} B); {measured['vectors']} golden vectors bit-exact"
    )
    instructions = int(measured["instructions"])
    line += f"; {instructions:,} instructions per inference"
    if f_cpu:
        from ..report.text import duration

        line += f" (>= {duration(instructions / f_cpu)} at {f_cpu / 1e6:g} MHz)"
    return line
