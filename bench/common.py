"""Shared pieces: paths, a private PlatformIO core dir, whole-process timing, A/B medians."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
VENV_BIN = REPO / ".venv" / "bin"
PIO = VENV_BIN / "pio"
SHARED_CORE = REPO / ".pio-core"
# The project's public test models (see tests/helpers/shared.py): shared/models beside the repo.
SHARED_MODELS = Path(
    os.environ.get("PIO_TINYML_SHARED_MODELS") or REPO.parent / "shared" / "models"
)
MNIST = REPO / "examples" / "mnist-pytorch"


@dataclass
class Context:
    """What every benchmark gets: options and the folders it may use."""

    out: Path  # bench/out (ignored by git)
    core: Path  # private PlatformIO core dir: fresh caches, shared packages
    quick: bool = False
    runs: int = 5
    build_runs: int = 1
    tree_sample: int = 1  # benchmark 3: compile every k-th file of the whole tree, scale up
    firmware_envs: tuple[str, ...] = ()  # benchmark 4/5: these envs only (empty: all)
    log: Callable[[str], None] = print
    shared: dict[str, Any] = field(default_factory=dict)  # results one benchmark leaves another


def say(line: str) -> None:
    print(f"bench: {line}", flush=True)


PLUGIN_PARTS = ("library.json", "extra_scripts", "platformio_plugin", "src")
_plugin_root: list[Path] = []


def plugin_snapshot(dest: Path, ref: str = "HEAD") -> tuple[Path, str]:
    """The library part of the repository (the plugin) as committed at ``ref``, unpacked in
    ``dest``: what the benchmark measures does not change when the working tree does."""
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", ref], capture_output=True, text=True, check=True
    ).stdout.strip()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, *PLUGIN_PARTS],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    _plugin_root[:] = [dest]
    sys.path.insert(0, str(dest))  # the benchmark's own imports of platformio_plugin too
    return dest, commit


def plugin_root() -> Path:
    """Where the plugin the benchmarks use lives (the snapshot, else the working tree)."""
    return _plugin_root[0] if _plugin_root else REPO


def private_core(dest: Path) -> Path:
    """A PlatformIO core dir that shares the project's installed packages and platforms but
    none of its caches: builds in it are really first builds (no cross-project TFLM objects)
    and conversions really cold. The converter environments are shared (installations, not
    caches of results)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("packages", "platforms"):
        # On a fresh checkout no pio run has made platforms/ yet: a dangling link would
        # make PlatformIO's makedirs fail, so the shared folder is created first.
        (SHARED_CORE / name).mkdir(parents=True, exist_ok=True)
        (dest / name).symlink_to(SHARED_CORE / name, target_is_directory=True)
    if (SHARED_CORE / "appstate.json").is_file():
        shutil.copyfile(SHARED_CORE / "appstate.json", dest / "appstate.json")
    (dest / "tinyml").mkdir()
    for prefix in ("converter", "litert-torch"):
        for env in sorted((SHARED_CORE / "tinyml").glob(f"{prefix}-*")):
            (dest / "tinyml" / env.name).symlink_to(env, target_is_directory=True)
    return dest


def converter_python(core: Path) -> Path:
    envs = sorted((core / "tinyml").glob("converter-*/bin/python"))
    if not envs:
        raise SystemExit(
            "bench: no converter environment (python -m platformio_plugin setup-converter)"
        )
    return envs[-1]


def pio_environ(core: Path) -> dict[str, str]:
    environ = dict(os.environ)
    environ.update(
        PLATFORMIO_CORE_DIR=str(core),
        PLATFORMIO_DISABLE_UPGRADE_CHECK="true",
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="No",
        PATH=os.pathsep.join([str(VENV_BIN), environ.get("PATH", "")]),
    )
    environ.pop("PLATFORMIO_BUILD_DIR", None)
    # As on a user's machine, Python caches compiled modules: pip precompiled PlatformIO's, and
    # a machine-wide PYTHONDONTWRITEBYTECODE would make only the plugin's recompile every run.
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return environ


@dataclass
class Timed:
    seconds: float
    returncode: int
    output: str


def run_timed(
    command: list[str], cwd: Path, environ: Optional[dict[str, str]] = None, timeout: float = 3600
) -> Timed:
    """Wall time of one whole process (start to exit), stdout and stderr together."""
    started = time.perf_counter()
    proc = subprocess.run(
        command,
        cwd=cwd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Timed(time.perf_counter() - started, proc.returncode, proc.stdout)


def must(result: Timed, what: str) -> Timed:
    if result.returncode != 0:
        raise SystemExit(f"bench: {what} failed ({result.returncode}):\n{result.output[-4000:]}")
    return result


def pio(args: list[str], project: Path, core: Path, timeout: float = 3600) -> Timed:
    return run_timed([str(PIO), *args], project, pio_environ(core), timeout)


def ab_medians(
    a: Callable[[], float], b: Callable[[], float], runs: int, warmup: bool = True
) -> dict[str, Any]:
    """Interleaved A B A B ... timings after one warm-up of each; medians and the ratio of
    medians, plus the median of the per-pair ratios (robust to drift on a shared machine)."""
    if warmup:
        a()
        b()
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(runs):
        ta.append(a())
        tb.append(b())
    ma, mb = statistics.median(ta), statistics.median(tb)
    return {
        "runs": runs,
        "a_s": [round(t, 3) for t in ta],
        "b_s": [round(t, 3) for t in tb],
        "a_median_s": round(ma, 3),
        "b_median_s": round(mb, 3),
        "ratio": round(ma / mb, 3),
        "pair_ratio_median": round(statistics.median(x / y for x, y in zip(ta, tb)), 3),
    }


def absolutize(ini_text: str) -> str:
    """An example's platformio.ini made to work from a copy elsewhere."""
    text = ini_text.replace("symlink://../../platforms/", f"symlink://{REPO / 'platforms'}/")
    return re.sub(r"symlink://\.\./\.\.(?=\s|$)", f"symlink://{plugin_root()}", text, flags=re.M)


def copy_example(example: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(example, dest, ignore=shutil.ignore_patterns(".pio"))
    ini = dest / "platformio.ini"
    ini.write_text(absolutize(ini.read_text()))
    return dest


def machine() -> dict[str, Any]:
    """Where the numbers came from."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass

    def version(cmd: list[str]) -> str:
        try:
            return (
                subprocess.run(cmd, capture_output=True, text=True, check=False)
                .stdout.splitlines()[0]
                .strip()
            )
        except (OSError, IndexError):
            return ""

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "gcc_arm": version(["arm-none-eabi-gcc", "--version"]),
        "qemu": version(["qemu-system-arm", "--version"]),
        "platformio": version([str(PIO), "--version"]),
    }


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
