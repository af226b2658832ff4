"""Interrupted builds and concurrent builds through real `pio run` on the host platform.

A build killed with SIGKILL (the whole process group: pio, SCons, converter workers) during
conversion or during generation, then built again, gives the same bytes as an uninterrupted
build; a partial conversion is never taken as done. Concurrent builds sharing the conversion
cache convert each model once, and a lock holder that dies never blocks the others.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from helpers.host_project import (
    cache_entries,
    env_section,
    kill_group,
    make_project,
    run,
    start,
    wait_exit,
    wait_for,
)

from platformio_plugin import cache, files, pipeline
from platformio_plugin.config import BoardSpec, load_config
from platformio_plugin.convert.environment import ENV_PYTHON, default_core_dir

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("pio_ready")]

MODELS = {
    "A": "tflm_hello_world/hello_world_int8.tflite",
    "B": "tflm_micro_speech/micro_speech_quantized.tflite",
}
CONVERTING = "net.tflite changed -> converting"
WAITING = "is being built by another process"


def _project(root: Path, shared: Path, model: str, envs: tuple[str, ...] = ("a",)) -> Path:
    (root / "models").mkdir(parents=True)
    shutil.copyfile(shared / MODELS[model], root / "models/net.tflite")
    return make_project(root, [env_section(e) for e in envs])


def _use(project: Path, shared: Path, model: str) -> None:
    shutil.copyfile(shared / MODELS[model], project / "models/net.tflite")


def outputs(project: Path, env: str) -> dict[str, bytes]:
    """Generated files of `env` (not manifest.json, which names absolute cache paths) and the
    cache entry of its model: what a correct build produces, byte for byte."""
    gen = project / ".pio/build" / env / "tinyml"
    out = {
        "gen/" + p.relative_to(gen).as_posix(): p.read_bytes()
        for p in sorted(gen.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }
    manifest = json.loads((gen / "manifest.json").read_text())
    entry = project / ".pio/tinyml-cache" / manifest["models"][0]["fingerprint"]
    for name in ("model_int8.tflite", "golden.json", cache.STAMP_NAME):
        out[f"cache/{entry.name}/{name}"] = (entry / name).read_bytes()
    return out


Start = Callable[..., "subprocess.Popen[bytes]"]


@pytest.fixture
def background() -> Iterator[Start]:
    """`start()` for the test: a build still running when the test ends (it failed or timed
    out) is killed with its whole process group, so that nothing keeps holding a lock."""
    started: list[subprocess.Popen[bytes]] = []

    def tracked(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = start(*args, **kwargs)
        started.append(proc)
        return proc

    yield tracked
    for proc in started:
        if proc.poll() is None:
            kill_group(proc)


@pytest.fixture
def slow_converter(tmp_path: Path, converter_python: Path) -> dict[str, str]:
    """A converter environment whose every worker starts 4 s late (the product's own option
    for pointing at an existing environment), so that a conversion outlasts the start of a
    second build: the real one takes well under a second for these .tflite models."""
    wrapper = tmp_path / "slow-python"
    wrapper.write_text(f'#!/bin/sh\nsleep 4\nexec "{converter_python}" "$@"\n')
    wrapper.chmod(0o755)
    return {ENV_PYTHON: str(wrapper)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, shared_models: Path) -> dict[str, dict]:
    """Uninterrupted builds of model A and model B."""
    refs = {}
    for model in MODELS:
        project = _project(tmp_path_factory.mktemp(f"ref{model}"), shared_models, model)
        proc = run(project, "a")
        assert proc.returncode == 0, proc.stdout
        refs[model] = outputs(project, "a")
    return refs


def assert_no_partial_entry_taken_as_done(project: Path) -> None:
    """Every cache entry whose stamp says done is complete and matches its name."""
    for entry in cache_entries(project):
        if entry.name.startswith("."):
            continue  # a staging folder of a killed run: never read
        stamp = cache.read_stamp(entry)
        if stamp is None:
            continue
        assert stamp == entry.name
        report = json.loads((entry / "report.json").read_text())
        assert (entry / "model_int8.tflite").stat().st_size > 0 and "arena_bytes_host" in report


def assert_generated_consistent(project: Path, env: str, reference: dict[str, dict]) -> None:
    """A generated folder whose stamp names a model's build holds exactly that build's files."""
    stamp = project / ".pio/build" / env / "tinyml" / cache.STAMP_NAME
    if not stamp.is_file():
        return
    for ref in reference.values():
        if ref["gen/" + cache.STAMP_NAME] == stamp.read_bytes():
            got = outputs(project, env)
            assert {k: v for k, v in got.items() if k.startswith("gen/")} == {
                k: v for k, v in ref.items() if k.startswith("gen/")
            }


def test_kill_during_conversion_then_build_again(
    tmp_path: Path, shared_models: Path, reference: dict[str, dict], background: Start
) -> None:
    project = _project(tmp_path / "p", shared_models, "B")
    # The conversion of this .tflite takes well under a second: kill early and later in it.
    for delay in (random.uniform(0.0, 0.3), random.uniform(0.3, 1.5)):
        if cache.read_stamp(project / ".pio/build/a/tinyml") is not None:
            # The previous round finished before its kill: start this one from nothing again.
            shutil.rmtree(project / ".pio/tinyml-cache")
            shutil.rmtree(project / ".pio/build/a/tinyml")
        log = tmp_path / "killed.log"
        proc = background(project, "a", log=log)
        assert wait_for(log, CONVERTING, proc), log.read_text()
        time.sleep(delay)
        kill_group(proc)
        assert_no_partial_entry_taken_as_done(project)
        assert_generated_consistent(project, "a", reference)  # stamped only when complete
    again = run(project, "a")
    assert again.returncode == 0, again.stdout
    assert outputs(project, "a") == reference["B"]


def test_kill_during_generation_then_build_again(
    tmp_path: Path, shared_models: Path, reference: dict[str, dict], background: Start
) -> None:
    """Both models converted; each round switches the model (generation only, from the cache)
    and kills the build at another moment around the hook's work, then checks the invariant,
    builds again and compares, and switches back."""
    project = _project(tmp_path / "p", shared_models, "A")
    for model in ("B", "A"):
        _use(project, shared_models, model)
        assert run(project, "a").returncode == 0
    current = "A"
    for delay in (0.0, 0.05, 0.15, 0.3, 0.6):
        current = "B" if current == "A" else "A"
        _use(project, shared_models, current)
        log = tmp_path / "killed.log"
        proc = background(project, "a", log=log)
        assert wait_for(log, "LDF Modes", proc), log.read_text()
        time.sleep(delay + random.uniform(0, 0.05))
        kill_group(proc)
        assert_no_partial_entry_taken_as_done(project)
        again = run(project, "a")
        assert again.returncode == 0, again.stdout
        assert CONVERTING not in again.stdout
        assert outputs(project, "a") == reference[current]


def test_generation_killed_midway_is_never_taken_as_done(
    tmp_path: Path,
    shared_models: Path,
    reference: dict[str, dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Model A built (stamp A). A build of model B dies right after writing its first
    generated file (the real pipeline, stopped inside its first write); going back to model A
    must rebuild A's files, not take the folder as up to date."""
    project = _project(tmp_path / "p", shared_models, "A")
    assert run(project, "a").returncode == 0
    _use(project, shared_models, "B")
    config = load_config(
        {}, env_name="a", project_dir=project, build_dir=project / ".pio/build/a",
        board=BoardSpec("host", "host"), workspace_dir=project / ".pio",
    )  # fmt: skip
    real_write = files.write_if_changed
    written: list[Path] = []

    def dies_after_the_first_file(path: Path, content: str | bytes) -> bool:
        if written:
            raise KeyboardInterrupt  # the build is killed here
        written.append(path)
        return real_write(path, content)

    monkeypatch.setattr(files, "write_if_changed", dies_after_the_first_file)
    with pytest.raises(KeyboardInterrupt):
        pipeline.prepare_env(config, core_dir=default_core_dir(), log=lambda _line: None)
    monkeypatch.undo()
    assert len(written) == 1
    _use(project, shared_models, "A")
    again = run(project, "a")
    assert again.returncode == 0, again.stdout
    assert outputs(project, "a") == reference["A"]


def test_two_envs_in_one_run_convert_once(
    tmp_path: Path, shared_models: Path, reference: dict[str, dict]
) -> None:
    project = _project(tmp_path / "p", shared_models, "B", envs=("a", "b"))
    proc = run(project, "a", "b")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.count(CONVERTING) == 1, proc.stdout
    assert outputs(project, "a") == reference["B"]
    assert outputs(project, "b") == reference["B"]


@pytest.mark.parametrize("envs", [("a", "b"), ("a", "a")], ids=["other envs", "same env"])
def test_two_builds_at_once_convert_once(
    tmp_path: Path,
    shared_models: Path,
    reference: dict[str, dict],
    envs: tuple[str, str],
    slow_converter: dict[str, str],
    background: Start,
) -> None:
    project = _project(tmp_path / "p", shared_models, "B", envs=("a", "b"))
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    procs = [background(project, envs[0], log=logs[0], env=slow_converter)]
    if envs[0] == envs[1]:
        # PlatformIO's own start of a build (`if not isdir(BUILD_DIR): os.makedirs(...)` in its
        # builder) races when one env starts twice in the same instant, before any plugin runs:
        # the second starts once the first is converting, holding the env's lock.
        assert wait_for(logs[0], CONVERTING, procs[0]), logs[0].read_text()
    procs.append(background(project, envs[1], log=logs[1], env=slow_converter))
    codes = [wait_exit(proc, 600, log) for proc, log in zip(procs, logs)]
    texts = [log.read_text() for log in logs]
    assert sum(t.count(CONVERTING) for t in texts) == 1, texts
    assert not any("Error:" in t or "Traceback" in t for t in texts), texts
    assert codes == [0, 0], texts
    if envs[0] == envs[1]:
        # Two SCons processes of one env would race on the same objects and archive
        # (PlatformIO has no build-folder lock): the plugin's lock makes one wait.
        assert sum(t.count(WAITING) for t in texts) == 1, texts
    for env in set(envs):
        assert outputs(project, env) == reference["B"]
    assert len(cache_entries(project)) == 1


def test_killed_lock_holder_never_blocks_the_waiter(
    tmp_path: Path,
    shared_models: Path,
    reference: dict[str, dict],
    slow_converter: dict[str, str],
    background: Start,
) -> None:
    project = _project(tmp_path / "p", shared_models, "B", envs=("a", "b"))
    holder_log, waiter_log = tmp_path / "holder.log", tmp_path / "waiter.log"
    holder = background(project, "a", log=holder_log, env=slow_converter)
    assert wait_for(holder_log, CONVERTING, holder), holder_log.read_text()
    waiter = background(project, "b", log=waiter_log)
    assert wait_for(waiter_log, "LDF Modes", waiter), waiter_log.read_text()
    time.sleep(1.0)  # the waiter now blocks on the entry's lock
    assert holder.poll() is None, "the holder finished before it could be killed"
    kill_group(holder)
    assert wait_exit(waiter, 300, waiter_log) == 0, waiter_log.read_text()
    assert CONVERTING in waiter_log.read_text()  # the dead holder published nothing
    assert outputs(project, "b") == reference["B"]
