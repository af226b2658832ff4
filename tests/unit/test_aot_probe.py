"""The build's probe of the ahead-of-time code (custom_tinyml_runtime = aot), its pure parts:
which envs run it, the generated table of the probe program, the program's cache key, the
arena check against the plan and the messages of a failed check. The probe on the emulated
core itself: tests/target/test_aot_probe.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from platformio_plugin.convert.stages import probe as stage
from platformio_plugin.errors import ProbeError
from platformio_plugin.probe.elf import ElfImage
from platformio_plugin.results import PreparedEnv, PreparedModel
from platformio_plugin.scons import aot_probe_build


def _config(tmp_path: Path, cpu: str, fpu: str = "", **options: str) -> Any:
    from platformio_plugin.config import BoardSpec, load_config

    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "m.tflite").write_bytes(b"x")
    raw = {f"custom_tinyml_{k}": v for k, v in options.items()}
    board = BoardSpec("b", cpu, max_flash=1 << 20, max_ram=1 << 18, fpu=fpu)
    return load_config(
        raw, env_name="e", project_dir=tmp_path, build_dir=tmp_path / ".pio/build/e", board=board
    )


def _model(name: str, fingerprint: str = "f0") -> PreparedModel:
    return PreparedModel(
        name, f"models/{name}.tflite", fingerprint, Path(f"{name}.tflite"), ("ADD",), 1, 1, 32, 32
    )


def _prepared(*models: PreparedModel) -> PreparedEnv:
    return PreparedEnv(tuple(models), ("ADD",), "cmsis-nn", Path("gen"), False)


@pytest.mark.parametrize("cpu", ["cortex-m0plus", "cortex-m4", "cortex-m33"])
def test_aot_envs_on_emulated_cores_run_the_probe_and_keep_their_plan(
    tmp_path: Path, cpu: str
) -> None:
    from platformio_plugin.pipeline import aot_checked_core, probed_core

    config = _config(tmp_path, cpu, runtime="aot")
    assert aot_checked_core(config) == cpu
    assert probed_core(config) is None  # nothing measured for kArenaSize: the plan


@pytest.mark.parametrize(
    ("cpu", "fpu", "options"),
    [
        ("cortex-m4", "", {"runtime": "aot", "probe": "no"}),  # the user's choice
        ("cortex-m7", "fpv5-d16", {"runtime": "aot"}),  # no double-precision FPU in Unicorn
        ("cortex-m4", "", {"runtime": "tflm"}),  # the interpreter's probe instead
        ("cortex-m4", "", {"runtime": "none"}),
    ],
)
def test_no_aot_probe_where_it_cannot_or_should_not_run(
    tmp_path: Path, cpu: str, fpu: str, options: dict[str, str]
) -> None:
    from platformio_plugin.pipeline import aot_checked_core

    assert aot_checked_core(_config(tmp_path, cpu, fpu, **options)) is None


def test_interpreter_probe_unchanged_for_tflm_envs(tmp_path: Path) -> None:
    from platformio_plugin.pipeline import probed_core

    assert probed_core(_config(tmp_path, "cortex-m4", runtime="tflm")) == "cortex-m4"


def test_table_lists_each_model_by_index_with_its_header() -> None:
    text = aot_probe_build.render_table(["hello", "kws"], "k1")
    assert '#include "aot_probe.h"' in text
    assert text.index('#include "tinyml/hello.h"') < text.index('#include "tinyml/kws.h"')
    assert text.index("entry<tinyml::hello>(),  // 0") < text.index("entry<tinyml::kws>(),  // 1")
    assert "const AotEntry* aot_model(int index)" in text
    assert "&M::AotCheck" in text and "&M::AotInvoke" in text and "M::kAotArenaSize" in text
    assert "${" not in text
    assert aot_probe_build.render_table(["hello", "kws"], "k1") == text  # byte-identical
    assert "(k1)" in text


def test_table_key_follows_names_fingerprints_and_order() -> None:
    a, b = _model("a", "1"), _model("b", "2")
    key = aot_probe_build.table_key(_prepared(a, b))
    assert key == aot_probe_build.table_key(_prepared(a, b))
    assert key != aot_probe_build.table_key(_prepared(b, a))
    assert key != aot_probe_build.table_key(_prepared(a, _model("b", "3")))


@pytest.mark.parametrize(
    ("flags", "opt"),
    [
        (["-mcpu=cortex-m4", "-Os", "-ffunction-sections"], "-Os"),
        (["-O2", "-g", "-O3"], "-O3"),  # the last wins, as for the compiler
        (["-Og", "-g2", ("-include", "x.h")], "-Og"),
        (["-mthumb"], "-Os"),
    ],
)
def test_the_firmware_optimization_compiles_the_probed_code(flags: list[Any], opt: str) -> None:
    assert aot_probe_build.optimization(flags) == opt


def test_program_key_follows_every_generated_source(tmp_path: Path) -> None:
    files = [tmp_path / n for n in ("hello_aot.cc", "hello.h", "hello_arena.h")]
    for path in files:
        path.write_text(f"// {path.name}\n")
    key = aot_probe_build.program_key("lib", files, "-Os", ["-T", "probe.ld"])
    assert len(key) == 24
    assert key == aot_probe_build.program_key("lib", files, "-Os", ["-T", "probe.ld"])
    assert key != aot_probe_build.program_key("lib2", files, "-Os", ["-T", "probe.ld"])
    assert key != aot_probe_build.program_key("lib", files, "-O2", ["-T", "probe.ld"])
    assert key != aot_probe_build.program_key("lib", files, "-Os", ["-T", "other.ld"])
    files[0].write_text("// hello_aot.cc, edited\n")
    assert key != aot_probe_build.program_key("lib", files, "-Os", ["-T", "probe.ld"])
    assert aot_probe_build.program_key("", files, "-Os", []) == ""  # no shared cache


def _measured(arena: int, plan: int) -> dict[str, Any]:
    return {"arena": arena, "arena_used_large": plan, "arena_forced": False,
            "instructions": 2732, "vectors": 4, "stack_bytes": 460, "profile": []}  # fmt: skip


def test_arena_must_be_the_plan(tmp_path: Path) -> None:
    config = _config(tmp_path, "cortex-m4", runtime="aot")
    prepared = _prepared(_model("hello"))
    aot_probe_build.check_arenas(
        config, prepared, {"models": {"hello": _measured(32, 32)}}, "cortex-m4"
    )
    with pytest.raises(ProbeError) as caught:
        aot_probe_build.check_arenas(
            config, prepared, {"models": {"hello": _measured(48, 32)}}, "cortex-m4"
        )
    text = caught.value.render()
    assert "models/hello.tflite" in text and "48 B" in text and "plan of 32 B" in text
    assert "custom_tinyml_runtime = tflm" in text


def test_summary_line_names_check_vectors_instructions_and_stack() -> None:
    line = aot_probe_build.summary_line(_model("hello"), _measured(32, 32), "cortex-m4", 25_000_000)
    assert line == (
        "hello: ahead-of-time code on the emulated cortex-m4: arena 32 B checked (the build's "
        "plan); 4 golden vectors bit-exact with TFLM's interpreter; 2,732 instructions per "
        "inference (>= 0.109 ms at 25 MHz); stack 460 B"
    )


def _run(runtime: str) -> stage.ModelRun:
    machine = stage.Machine(ElfImage((), {}), "cortex-m4")
    return stage.ModelRun(machine, 0, "models/kws.tflite", "m4", b"", 1, runtime)


def test_mismatch_names_vector_byte_and_values() -> None:
    want = bytes([0x80, 0x80, 0x09, 0xF6])
    got = bytes([0x80, 0x80, 0x0A, 0xF6])
    assert stage.aot_mismatch(2, got, want) == (
        "golden vector 2 differs from TFLM's interpreter on the host: output byte 2 of the "
        "ahead-of-time code is 10, expected 9 (1 of 4 bytes differ)"
    )
    assert "3 bytes" in stage.aot_mismatch(0, got[:3], want)


def test_aot_errors_name_model_env_and_the_fix() -> None:
    error = _run("aot").error(stage.aot_mismatch(1, b"\x01", b"\x02"), None)
    text = error.render()
    assert text.startswith("models/kws.tflite: its ahead-of-time code fails the build's check")
    assert "(env m4)" in text and "golden vector 1" in text
    assert "custom_tinyml_runtime = tflm" in text and "tinyml-clean-cache" in text


def test_interpreter_messages_unchanged() -> None:
    run = _run("tflm")
    assert stage._begin_failed(run, 2) == "AllocateTensors failed"
    text = run.error("AllocateTensors failed", None).render()
    assert "models/kws.tflite does not run on the emulated cortex-m4 (env m4)" in text
    assert "custom_tinyml_kernels = reference" in text
    assert stage._begin_failed(_run("aot"), 2) == "the arena is smaller than the build's arena plan"
    assert stage._begin_failed(_run("aot"), 4).startswith("AotCheck failed")


def test_reports_show_the_plan_checked_and_one_total() -> None:
    from platformio_plugin.report import html, text

    measured = {**_measured(32, 32), "runtime": "aot"}
    assert html._counted(measured) is None  # no count per layer: no column of zeros
    assert "the plan, checked on the emulated cortex-m4" in html._arena_card(
        _model("hello"), measured, "cortex-m4"
    )
    assert "measured on the emulated cortex-m4" in html._arena_card(
        _model("hello"), _measured(32, 32), "cortex-m4"
    )
    assert text.aot_total(2732, "cortex-m4", 25_000_000) == (
        "  total 2,732 instructions per inference of the ahead-of-time code on the emulated "
        "cortex-m4: >= 0.109 ms at 25 MHz (a lower bound)"
    )
