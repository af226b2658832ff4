"""The library's pre-build hook: PlatformIO env -> prepared models -> build env.

Runs when PlatformIO constructs the library builder (after the platform's
builder has set CPU flags, before anything compiles). Every TinyMLError ends
here as one `Error:` line and a non-zero exit; no traceback for user mistakes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from SCons.Script import COMMAND_LINE_TARGETS

from .. import cache, files, pipeline
from ..config import PluginConfig, board_spec, discover_model_paths, has_tinyml_options, load_config
from ..errors import BuildFolderError, TinyMLError
from ..results import PreparedEnv

if TYPE_CHECKING:
    from .tflm_build import LinkedLibrary

INFO_TARGET = "tinyml-info"
BUILD_LOCKS = "tinyml-locks"  # beside the build folder: `pio run` may delete .pio/build
CLEAN_TARGET = "tinyml-clean"
CLEAN_CACHE_TARGET = "tinyml-clean-cache"


def say(line: str) -> None:
    print(line if line.startswith(("TinyML: ", "Warning! ")) else f"TinyML: {line}", flush=True)


def fail(env: Any, error: TinyMLError) -> None:
    sys.stderr.write(f"Error: {error.render()}\n")
    sys.stderr.flush()
    env.Exit(1)


def _env_targets(env: Any, projenv: Any) -> list[Any]:
    """The envs whose sources include the generated headers and TFLM's: this library's
    (libraries depending on it inherit its include folders) and the project's sources'.
    Never the global env: it compiles the framework, which must not see TFLM's settings."""
    return [e for e in (env, projenv) if e is not None]


def read_config(env: Any) -> PluginConfig | None:
    """None when the project does not use the plugin (silent no-op)."""
    raw = env.GetProjectOptions(as_dict=True)
    project_dir = Path(env.subst("$PROJECT_DIR"))
    if not has_tinyml_options(raw) and not discover_model_paths(project_dir, None, env["PIOENV"]):
        return None
    board_id = env.subst("$BOARD") if "BOARD" in env else ""
    manifest = env.BoardConfig().manifest if board_id else {}
    fpu = ""
    for flag in [*env.get("CCFLAGS", []), *env.get("LINKFLAGS", [])]:
        if isinstance(flag, str) and flag.startswith("-mfpu="):
            fpu = flag[len("-mfpu=") :]
    return load_config(
        raw,
        env_name=env["PIOENV"],
        project_dir=project_dir,
        build_dir=Path(env.subst("$BUILD_DIR")),
        board=board_spec(board_id, manifest, fpu),
        workspace_dir=Path(env.subst("$PROJECT_WORKSPACE_DIR")),
    )


def wait_for_other_build(config: PluginConfig) -> None:
    """One build of an env at a time: a second `pio run` of the same env waits here."""

    def waiting(pid: str) -> None:
        say(f"env {config.env_name} is being built by another process (pid {pid}); waiting ...")

    workspace = config.cache_dir.parent
    files.hold_until_exit(workspace / BUILD_LOCKS / f"{config.env_name}.lock", waiting)


def add_generated_includes(envs: list[Any], generated_dir: Path) -> None:
    for target in envs:
        target.PrependUnique(CPPPATH=[str(generated_dir)])


def add_test_suite(env: Any, config: PluginConfig) -> None:
    from ..codegen.env_files import write_test_suite
    from ..codegen.model_files import GOLDEN_SUITE

    test_dir = Path(env.subst("$PROJECT_TEST_DIR"))
    written = write_test_suite(config.generated_dir, test_dir, config.options.test_suite)
    if written is not None:
        say(
            f"wrote {config.display(written)}: the golden vectors on the board with "
            f"`pio test -e {config.env_name} -f {GOLDEN_SUITE}`"
        )


def skip_runtime(env: Any) -> None:
    """Leave the library's C++ runtime (which needs TFLM) out of this build."""
    env["SRC_FILTER"] = ["-<*>"]


def build_model_data(env: Any, generated_dir: Path, includes: Any = None) -> Any:
    """The generated model .cc files as a small library the program links; ``includes``:
    the CMSIS-NN library's include folders, which the ahead-of-time sources need (only they
    get them: a framework's own CMSIS stays unshadowed elsewhere). Returns the library."""
    build_env = env
    if includes:
        build_env = env.Clone()
        build_env.AppendUnique(CPPPATH=list(includes))
    lib = build_env.BuildLibrary(str(generated_dir.parent / "tinyml-models"), str(generated_dir))
    env.Append(LIBS=[lib])
    return lib


# What the custom targets act on. Module state, not closures: SCons fingerprints a Python
# action's code and closure when it is created, on every build, and these are large.
_TARGET_STATE: dict[str, Any] = {}


def _info_action(target: Any, source: Any, env: Any) -> None:  # noqa: ARG001 (SCons signature)
    from ..report.pages import write_reports  # only when asked for
    from ..report.parsed import parsed_models
    from ..report.text import render_info

    config, prepared = _TARGET_STATE["config"], _TARGET_STATE["prepared"]
    if prepared is None:
        return
    parsed = parsed_models(prepared)  # one parse per model for the text and the pages
    for line in render_info(config, prepared, parsed):
        print(line)
    print()
    try:
        paths = write_reports(config, prepared, parsed)
    except TinyMLError as error:
        fail(env, error)
        return
    for path in paths:
        say(f"HTML report {config.display(path)}")


def _clean_action(target: Any, source: Any, env: Any) -> None:  # noqa: ARG001
    config = _TARGET_STATE["config"]
    for path in cache.clean_env(config):
        say(f"removed {config.display(path)}")


def _clean_cache_action(target: Any, source: Any, env: Any) -> None:  # noqa: ARG001
    config = _TARGET_STATE["config"]
    for path in cache.clean_conversions(config):
        say(f"removed {config.display(path)} (conversions of every env of the project)")


def _quiet(function: Any) -> Any:
    """A Python action SCons does not announce (it would print `_info_action([...], [])`
    before the target's own output)."""
    from SCons.Action import Action

    return Action(function, strfunction=lambda *_args, **_kwargs: None)


def register_targets(env: Any, config: PluginConfig, prepared: PreparedEnv | None) -> None:
    _TARGET_STATE.update(config=config, prepared=prepared)
    env.AddCustomTarget(
        INFO_TARGET,
        None,
        _quiet(_info_action),
        title="TinyML info",
        description="Layers, MACs, arena use, flash and RAM of each model (+ an HTML report)",
    )
    env.AddCustomTarget(
        CLEAN_TARGET,
        None,
        _quiet(_clean_action),
        title="TinyML clean",
        description="Remove this env's generated model files and conversion logs",
    )
    env.AddCustomTarget(
        CLEAN_CACHE_TARGET,
        None,
        _quiet(_clean_cache_action),
        title="TinyML clean cache",
        description="Remove the project's conversion cache (shared by its envs)",
    )


def link_runtime(
    env: Any, envs: list[Any], config: PluginConfig, prepared: PreparedEnv
) -> LinkedLibrary:
    """TFLM + kernels for exactly the env's ops, built with the board's own flags (with
    custom_tinyml_runtime = aot: CMSIS-NN alone); on an Arm Cortex-M env, the probe that
    measures each model on its core before anything else compiles (the ahead-of-time code's
    probe: ``add_aot_probe``, once the model library exists). Returns what was linked."""
    from . import tflm_build

    linked = tflm_build.add_tflm_library(
        env,
        ops=prepared.ops,
        choice=config.kernels,
        kernel_opt=config.options.kernel_optimization,
        library_flags=config.options.library_flags,
        log=say,
        project_envs=[e for e in envs if e is not env],
        option_dir=config.options.sources_dir,
        accept_other_version=config.options.allow_sources_mismatch,
        aot=config.options.runtime == "aot",
    )
    core = pipeline.probed_core(config)
    if core is not None:
        from . import probe_build

        probe_build.add_probe(
            env, linked, config, prepared, core, Path(env.subst("$PROJECT_CORE_DIR")), say
        )
    return linked


def add_aot_probe(
    env: Any, linked: LinkedLibrary, config: PluginConfig, prepared: PreparedEnv,
    models_lib: Any,
) -> None:  # fmt: skip
    """custom_tinyml_runtime = aot on an Arm Cortex-M env: the probe that runs the generated
    code on its core (golden vectors, instructions, stack); the model library waits for it."""
    core = pipeline.aot_checked_core(config)
    if core is not None:
        from . import aot_probe_build

        aot_probe_build.add_aot_probe(
            env, linked, config, prepared, core, Path(env.subst("$PROJECT_CORE_DIR")), say,
            gate=models_lib,
        )  # fmt: skip


def dump_ide_data(env: Any, projenv: Any) -> None:
    """IDE data (`pio project metadata`, idedata): include folders and defines only, never
    conversion or downloads; a project the plugin cannot read yet gets the generated folder."""
    from . import tflm_build

    envs = _env_targets(env, projenv)
    try:
        config = read_config(env)
    except TinyMLError:
        config = None
    generated = config.generated_dir if config else Path(env.subst("$BUILD_DIR")) / "tinyml"
    add_generated_includes(envs, generated)
    if config is not None and config.options.runtime != "none":
        tflm_build.add_ide_flags(
            envs,
            config.kernels,
            option_dir=config.options.sources_dir,
            accept_other_version=config.options.allow_sources_mismatch,
        )


def run(env: Any, projenv: Any = None) -> None:
    """Entry point called by extra_scripts/tinyml.py with the library's env."""
    if env.IsIntegrationDump():
        dump_ide_data(env, projenv)
        return
    started = time.monotonic()
    try:
        config = read_config(env)
        if config is None:
            skip_runtime(env)  # the library is listed but unused: compile nothing of it
            return
        wait_for_other_build(config)
        envs = _env_targets(env, projenv)
        add_generated_includes(envs, config.generated_dir)
        if {CLEAN_TARGET, CLEAN_CACHE_TARGET} & set(COMMAND_LINE_TARGETS):
            register_targets(env, config, None)
            return
        prepared = pipeline.prepare_env(
            config, core_dir=Path(env.subst("$PROJECT_CORE_DIR")), log=say
        )
        if config.kernels.warning:
            print(config.kernels.warning, flush=True)
        if config.options.runtime != "none":
            add_test_suite(env, config)
        register_targets(env, config, prepared)
        if config.options.runtime == "aot" and prepared.models:
            # The generated sources include CMSIS-NN: its folders come with its library.
            linked = link_runtime(env, envs, config, prepared)
            models_lib = build_model_data(env, config.generated_dir, linked.lib_env["CPPPATH"])
            add_aot_probe(env, linked, config, prepared, models_lib)
        else:
            if prepared.models:
                build_model_data(env, config.generated_dir)
            if config.options.runtime == "none" or not prepared.models:
                skip_runtime(env)
            else:
                link_runtime(env, envs, config, prepared)
    except TinyMLError as error:
        fail(env, error)
        return
    except OSError as error:  # a file system refusal is the user's to fix, not a traceback
        where = error.filename or "the build folder"
        fail(
            env,
            BuildFolderError(
                f"Cannot write {where}: {error.strerror or error}.",
                "Check permissions, free space and read-only mounts, or delete the project's "
                ".pio folder and build again.",
            ),
        )
        return
    if time.monotonic() - started > 5:
        say(f"done in {time.monotonic() - started:.1f} s")
