"""The isolated converter environments (standard library only).

PlatformIO's own Python has no torch / onnx / tensorflow. Conversion runs in a
separate virtual environment made from ``requirements.txt`` (exact pins) under
``<core_dir>/tinyml/converter-<sha256(requirements)[:12]>/``. The LiteRT Torch
exporter (PyTorch -> float .tflite, a second route for PyTorch models) pins other
LiteRT versions than the converter, so it has an environment of its own, made the
same way from ``requirements-litert-torch.txt`` under ``litert-torch-<hash>/`` when
a model first takes that route. Each is built in a temporary directory next to its
final place and renamed into place only when complete, so an interrupted install
never leaves a half-made environment.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from .. import files
from ..errors import ConverterEnvironmentError

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
LITERT_TORCH_REQUIREMENTS = Path(__file__).with_name("requirements-litert-torch.txt")
COMPLETE_MARKER = ".complete"
PYTHON_VERSION = (3, 11)
ENV_PYTHON = "PIO_TINYML_CONVERTER_PYTHON"
ENV_LITERT_TORCH_PYTHON = "PIO_TINYML_LITERT_TORCH_PYTHON"
ENV_WHEELHOUSE = "PIO_TINYML_WHEELHOUSE"


@dataclass(frozen=True)
class EnvSpec:
    """One pinned environment, made on first use under ``<core_dir>/tinyml/<prefix>-<hash>/``."""

    prefix: str  # folder name before the requirements hash
    requirements: Path  # exact pins
    what: str  # as the build log names it
    size: str  # what the one-time download comes to
    override: str  # environment variable naming an existing environment's python


CONVERTER = EnvSpec("converter", REQUIREMENTS, "model converter", "~2.2 GB", ENV_PYTHON)
LITERT_TORCH = EnvSpec(
    "litert-torch",
    LITERT_TORCH_REQUIREMENTS,
    "LiteRT Torch exporter",
    "~2.1 GB",
    ENV_LITERT_TORCH_PYTHON,
)


def default_core_dir() -> Path:
    """``$PLATFORMIO_CORE_DIR`` or ``~/.platformio``, as PlatformIO resolves it."""
    env = os.environ.get("PLATFORMIO_CORE_DIR")
    return Path(env) if env else Path.home() / ".platformio"


def requirements_hash(requirements: Path = REQUIREMENTS) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]


def converter_dir(core_dir: Path, requirements: Path = REQUIREMENTS) -> Path:
    return env_dir(core_dir, CONVERTER, requirements)


def env_dir(core_dir: Path, spec: EnvSpec, requirements: Optional[Path] = None) -> Path:
    pins = requirements or spec.requirements
    return core_dir / "tinyml" / f"{spec.prefix}-{requirements_hash(pins)}"


def venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def ensure_converter_python(core_dir: Path, log: Callable[[str], None]) -> Path:
    """The python of a ready converter environment, creating it on first use."""
    return ensure_env_python(CONVERTER, core_dir, log)


def ensure_litert_torch_python(core_dir: Path, log: Callable[[str], None]) -> Path:
    """The python of a ready LiteRT Torch environment, creating it on first use."""
    return ensure_env_python(LITERT_TORCH, core_dir, log)


def ensure_env_python(spec: EnvSpec, core_dir: Path, log: Callable[[str], None]) -> Path:
    """The python of the ready environment ``spec``, creating it on first use."""
    override = os.environ.get(spec.override)
    if override:
        python = Path(override)
        if not python.is_file():
            raise ConverterEnvironmentError(
                f"{spec.override} points at {python}, which does not exist.",
                f"Point it at the python of an environment made from {spec.requirements.name}, "
                "or unset it to let pio-tinyml create one.",
            )
        return python
    target = env_dir(core_dir.resolve(), spec)
    python = venv_python(target)
    if (target / COMPLETE_MARKER).is_file() and python.is_file():
        return python
    _create(spec, target, log)
    return python


def find_base_python() -> str:
    """A Python 3.11 interpreter to create the environment with."""
    if sys.version_info[:2] == PYTHON_VERSION:
        return sys.executable
    name = "python{}.{}".format(*PYTHON_VERSION)
    found = shutil.which(name)
    if not found:
        raise ConverterEnvironmentError(
            f"The model converter needs {name} (its pinned wheels are built for it), "
            "but it is not on PATH.",
            f"Install {name} (e.g. `apt-get install {name} {name}-venv`), or set {ENV_PYTHON} "
            "to the python of an existing converter environment.",
        )
    return found


def pip_install_command(python: Path, requirements: Path, wheelhouse: Optional[str]) -> list[str]:
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if wheelhouse:
        cmd += ["--no-index", "--find-links", wheelhouse]
    return cmd + ["-r", str(requirements)]


def _create(spec: EnvSpec, target: Path, log: Callable[[str], None]) -> None:
    files.clear_stale_staging(target)  # leftovers of an interrupted install
    started = time.monotonic()
    log(f"TinyML: setting up the {spec.what} (one time, {spec.size}) ...")
    staging = files.staging_dir(target)
    try:
        _run(
            [find_base_python(), "-m", "venv", str(staging)],
            f"creating the {spec.what}'s virtual environment",
            spec.requirements,
        )
        _run(
            pip_install_command(
                venv_python(staging), spec.requirements, os.environ.get(ENV_WHEELHOUSE) or None
            ),
            f"installing the {spec.what}'s packages",
            spec.requirements,
        )
        files.write_atomic(staging / COMPLETE_MARKER, requirements_hash(spec.requirements) + "\n")
        # A venv records its own path in scripts and pyvenv.cfg; renaming keeps
        # `python -m ...` working, which is all pio-tinyml uses.
        files.publish_dir(staging, target)
        _fix_paths(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log(f"TinyML: {spec.what} ready in {target} - done in {time.monotonic() - started:.0f} s")


def _fix_paths(old: Path, new: Path) -> None:
    """Rewrite the staging path the venv recorded into its text files."""
    old_s, new_s = str(old), str(new)
    candidates = [new / "pyvenv.cfg", *(p for p in (new / "bin").glob("*") if p.is_file())]
    for path in candidates:
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        if old_s in text:
            path.write_text(text.replace(old_s, new_s))


def _run(cmd: list[str], what: str, requirements: Path) -> None:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode == 0:
        return
    output = proc.stdout or ""
    package, line = explain_pip_failure(output)
    where = f" ({package})" if package else ""
    wheelhouse = os.environ.get(ENV_WHEELHOUSE)
    if wheelhouse:
        fix = (
            f"{ENV_WHEELHOUSE}={wheelhouse} lacks a wheel for {package or 'a package'}: fill it "
            f"on a connected machine with `pip download -r {requirements.name} -d <folder>`."
        )
    else:
        fix = (
            f"Check network access to PyPI or set {ENV_WHEELHOUSE} to a folder of wheels for "
            f"{requirements.name}."
        )
    raise ConverterEnvironmentError(
        f"Failed {what}{where}: {line}", f"{fix} Command: {' '.join(cmd)}"
    )


_PKG_PATTERNS = (
    re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+(?:[=<>!~]=?[^\s]+)?)"),
    re.compile(r"Could not find a version that satisfies the requirement ([^\s]+)"),
    re.compile(r"Failed to build ([A-Za-z0-9_.\-]+)"),
    re.compile(r"Failed building wheel for ([A-Za-z0-9_.\-]+)"),
    re.compile(r"ERROR: Cannot install ([^\s]+)"),
)


def explain_pip_failure(output: str) -> tuple[str, str]:
    """(package, error line) from pip's output; either may be empty."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    error_lines = [ln for ln in lines if ln.startswith("ERROR:") or "Error" in ln]
    line = error_lines[-1] if error_lines else (lines[-1] if lines else "no output")
    for pattern in _PKG_PATTERNS:
        match = pattern.search(output)
        if match:
            return match.group(1).rstrip(".,;"), line
    return "", line
