"""The probe of the ahead-of-time code (custom_tinyml_runtime = aot) at build time: the env's
generated ``tinyml/<name>_aot.cc`` and its CMSIS-NN archive linked into a probe program
(``probe/harness/aot_probe.cc``, the same calls as the interpreter's probe, with the same
machine flags and memory map) and run on an emulated core of the env's kind by the same
emulation stage: the golden vectors (TFLM's interpreter on the host) bit-exact, the
instructions per inference, the stack, and the arena: the smallest with which the code starts
and runs must be the build's plan (kAotArenaSize), in an arena whose end faults.

It measures nothing the firmware needs: kArenaSize stays the plan. Its one target is the probe's
``result.json``, and the env's generated model library depends on it, so a failed check fails
the build before the firmware links. The program and the results are kept in
``<core_dir>/tinyml/probe/`` by content, as the interpreter's probe does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from string import Template
from typing import Any, Callable, Optional, Sequence

from .. import files
from ..config import PluginConfig
from ..errors import ProbeError, TinyMLError
from ..results import PreparedEnv, PreparedModel
from . import probe_build
from .tflm_build import LinkedLibrary

HARNESS = probe_build.HARNESS
AOT_PROBE_VERSION = "2"  # bump when the harness or the check changes
TABLE_NAME = "aot_models.cc"
DEFAULT_OPT = "-Os"

Log = Callable[[str], None]

# What the probe action needs. Module state, not a closure: SCons fingerprints an action's
# closure on every build.
_STATE: dict[str, Any] = {}


def add_aot_probe(
    env: Any,
    linked: LinkedLibrary,
    config: PluginConfig,
    prepared: PreparedEnv,
    core: str,
    core_dir: Path,
    log: Log,
    gate: Any,
) -> Any:
    """Link the probe of the ahead-of-time code, run it as the command of the probe's
    result.json, and make ``gate`` (the generated model library the firmware links) depend on
    it. Returns the result's node."""
    from SCons.Action import Action

    out = probe_build.probe_dir(config)
    names = [m.name for m in prepared.models]
    files.write_if_changed(out / TABLE_NAME, render_table(names, table_key(prepared)))
    program = _probe_program(env, linked, config, names, core_dir / "tinyml" / "probe")
    sources = [program, *(str(m.tflite) for m in prepared.models)]
    sources += [str(probe_build._golden(m)) for m in prepared.models]
    request = {
        "core": core,
        "env": config.env_name,
        "models": [m.fingerprint for m in prepared.models],
        "runtime": "aot",
        "version": AOT_PROBE_VERSION,
    }
    _STATE.update(config=config, prepared=prepared, core=core, log=log, core_dir=str(core_dir))
    result = env.Command(
        str(probe_build.result_path(config)),
        sources,
        Action(_probe_action, strfunction=probe_build._silent, varlist=["TINYML_AOT_PROBE"]),
        TINYML_AOT_PROBE=json.dumps(request, sort_keys=True),
    )
    env.Depends(gate, result)
    return result


def render_table(names: Sequence[str], key: str) -> str:
    """The probe program's table of the env's models (``harness/aot_models.cc.tmpl``): each
    model's plan, input, output, AotCheck and AotInvoke, by index (the order of ``names``);
    ``key``: what the models are (``table_key``)."""
    template = Template((HARNESS / "aot_models.cc.tmpl").read_text(encoding="utf-8"))
    return template.substitute(
        key=key,
        includes="".join(f'#include "tinyml/{n}.h"\n' for n in names),
        entries="".join(f"    entry<tinyml::{n}>(),  // {i}\n" for i, n in enumerate(names)),
    )


def table_key(prepared: PreparedEnv) -> str:
    """The generated table's fingerprint: the models' names and fingerprints, in order."""
    text = "\n".join(f"{m.name} {m.fingerprint}" for m in prepared.models)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def optimization(flags: Sequence[Any]) -> str:
    """The firmware's optimization flag (the last -O of its flags), which the probe compiles
    the ahead-of-time code with; -Os when it has none."""
    found = [f for f in flags if isinstance(f, str) and f.startswith("-O")]
    return found[-1] if found else DEFAULT_OPT


def _generated_sources(config: PluginConfig, names: Sequence[str]) -> list[Path]:
    """What the ahead-of-time objects are compiled from: per model its source, header and
    arena header."""
    tinyml = config.generated_dir / "tinyml"
    return [tinyml / f"{n}{suffix}" for n in names for suffix in ("_aot.cc", ".h", "_arena.h")]


def program_key(
    linked_key: str, inputs: Sequence[Path], opt: str, link_flags: Sequence[Any]
) -> str:
    """What decides the probe program's bytes: the CMSIS-NN archive's key (compiler, flags,
    sources), the harness, the generated table and sources, the optimization and the link
    flags. '' when the archive has no key (no shared cache)."""
    if not linked_key:
        return ""
    digest = hashlib.sha256(f"aot {AOT_PROBE_VERSION}\n{linked_key}\n{opt}\n".encode())
    for path in inputs:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    digest.update(" ".join(str(f) for f in link_flags).encode())
    return digest.hexdigest()[:24]


def _probe_program(
    env: Any, linked: LinkedLibrary, config: PluginConfig, names: Sequence[str], cache: Path
) -> Any:
    out = probe_build.probe_dir(config)
    opt = optimization(env.get("CCFLAGS", []))
    probe_env = linked.lib_env.Clone()
    link_flags = [*probe_build._link_flags(probe_env, out / "aot_probe.map")]
    harness = [HARNESS / "aot_probe.cc", HARNESS / "aot_probe.h", HARNESS / "probe.ld"]
    generated = _generated_sources(config, names)
    key = program_key(
        linked.key,
        [*harness, out / TABLE_NAME, *generated],
        opt,
        probe_build._link_flags(probe_env, Path("probe.map")),
    )
    cached = cache / f"aot-program-{key}" / "probe.elf" if key else None
    if cached is not None and cached.is_file() and cached.with_suffix(".map").is_file():
        return env.File(str(cached))
    probe_env.AppendUnique(CPPPATH=[str(config.generated_dir), str(HARNESS)])
    ccflags = [*probe_env["CCFLAGS"], opt]
    objects = [
        probe_env.Object(target=str(out / "aot_probe.o"), source=str(HARNESS / "aot_probe.cc"),
                         CCFLAGS=ccflags),
        probe_env.Object(target=str(out / "aot_models.o"), source=str(out / TABLE_NAME),
                         CCFLAGS=ccflags),
    ]  # fmt: skip
    for name in names:
        source = config.generated_dir / "tinyml" / f"{name}_aot.cc"
        objects.append(
            probe_env.Object(target=str(out / f"{name}_aot.o"), source=str(source), CCFLAGS=ccflags)
        )
    program = probe_env.Program(
        target=str(out / "aot_probe.elf"),
        source=objects,
        LIBS=[linked.archive, "m"],
        LIBPATH=[],
        LINKFLAGS=link_flags,
        PROGSUFFIX=".elf",
    )
    if cached is not None:
        from SCons.Action import Action
        from SCons.Environment import Base

        store = Action(probe_build._store_program(cached), strfunction=probe_build._silent)
        Base.AddPostAction(probe_env, program, store)
    return program


def _probe_action(target: Any, source: Any, env: Any) -> int:  # noqa: ARG001 (SCons signature)
    import sys

    try:
        run_aot_probe(
            _STATE["config"], _STATE["prepared"], _STATE["core"],
            Path(source[0].get_abspath()), _STATE["log"],
        )  # fmt: skip
    except TinyMLError as error:
        sys.stderr.write(f"Error: {error.render()}\n")
        sys.stderr.flush()
        return 1
    return 0


def _cache_key(elf: Path, prepared: PreparedEnv, core: str) -> str:
    digest = hashlib.sha256(f"aot {AOT_PROBE_VERSION}\n{core}\n".encode())
    digest.update(elf.read_bytes())
    for model in prepared.models:
        digest.update(model.name.encode() + b"\0")
        digest.update(Path(model.tflite).read_bytes())
        digest.update(probe_build._golden(model).read_bytes())
    return digest.hexdigest()


def run_aot_probe(
    config: PluginConfig, prepared: PreparedEnv, core: str, elf: Path, log: Log
) -> dict[str, Any]:
    """The probe's result for the env (cached by content, failures never), each model's
    arena checked against its plan, and the result written."""
    core_dir = _STATE.get("core_dir")
    cached = None
    if core_dir:
        key = _cache_key(elf, prepared, core)
        cached = Path(core_dir) / "tinyml" / "probe" / f"aot-{key[:32]}.json"
    result: Optional[dict[str, Any]] = None
    if cached is not None and cached.is_file():
        with contextlib.suppress(OSError, ValueError):
            result = json.loads(cached.read_text(encoding="utf-8"))
    if result is None:
        result = _run(config, prepared, core, elf, log)
        check_arenas(config, prepared, result, core)
        if cached is not None:
            with contextlib.suppress(OSError):  # a read-only core dir: run again next time
                files.write_atomic(cached, json.dumps(result, indent=1, sort_keys=True))
    else:
        log(f"probe: results of the emulated {core} reused (nothing changed)")
    for model in prepared.models:
        log(summary_line(model, result["models"][model.name], core, config.board.f_cpu))
    result["runtime_flash"] = probe_build.runtime_flash(
        elf.with_suffix(".map"), probe_build.linked_archive_name()
    )
    if result["runtime_flash"]:
        kernels = "CMSIS-NN" if config.kernels.cmsis_nn else "TFLite Micro's reference kernels"
        log(
            f"{kernels} for the ahead-of-time code: {result['runtime_flash']:,} B of flash, "
            "as linked in the probe"
        )
    files.write_if_changed(
        probe_build.result_path(config), json.dumps(result, indent=1, sort_keys=True)
    )
    return result


def check_arenas(
    config: PluginConfig, prepared: PreparedEnv, result: dict[str, Any], core: str
) -> None:
    """The smallest arena with which each model starts and runs must be its plan (what
    begin() refuses below, ``arena_used_large``): more means the code touched bytes past it."""
    for model in prepared.models:
        measured = result["models"][model.name]
        plan, arena = int(measured["arena_used_large"]), int(measured["arena"])
        if arena != plan:
            raise ProbeError(
                f"{model.source}: the ahead-of-time code needs an arena of {arena:,} B on the "
                f"emulated {core} (env {config.env_name}), more than its plan of {plan:,} B "
                "(kAotArenaSize): it writes past the arena the build planned",
                _hint(),
            )


def _hint() -> str:
    from ..convert.stages.probe import AOT_HINT

    return AOT_HINT


def _run(
    config: PluginConfig, prepared: PreparedEnv, core: str, elf: Path, log: Log
) -> dict[str, Any]:
    names = ", ".join(m.name for m in prepared.models)
    result = probe_build.run_probe_worker(
        Path(_STATE["core_dir"]), config, prepared, core, elf, log,
        announce=f"probe: running the ahead-of-time code of {names} on the emulated {core} "
        "(golden vectors, arena plan, profile) ...",
        arena=None,
        model_fields={"runtime": "aot"},
    )  # fmt: skip
    models = {name: {**measured, "runtime": "aot"} for name, measured in result["models"].items()}
    return {"core": result["core"], "models": models, "runtime": "aot"}


def summary_line(model: PreparedModel, measured: dict[str, Any], core: str, f_cpu: int) -> str:
    """One line per model: the ahead-of-time code's arena, golden check and instructions."""
    line = (
        f"{model.name}: ahead-of-time code on the emulated {core}: arena {int(measured['arena']):,}"
        f" B checked (the build's plan); {measured['vectors']} golden vectors bit-exact with "
        f"TFLM's interpreter; {int(measured['instructions']):,} instructions per inference"
    )
    if f_cpu:
        from ..report.text import duration

        line += f" (>= {duration(int(measured['instructions']) / f_cpu)} at {f_cpu / 1e6:g} MHz)"
    return line + f"; stack {int(measured['stack_bytes']):,} B"
