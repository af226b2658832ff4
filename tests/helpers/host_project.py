"""Helpers for the reliability tests: small host projects, snapshots, the one-error check."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import struct
import subprocess
import time
from pathlib import Path
from typing import Any, Iterable, Optional

from helpers.pio import PIO, PLATFORMS_DIR, REPO_ROOT, network_namespace_available, pio_environ

MAIN = "int main() { return 0; }\n"
# Runs that must not convert anything: a converter that does not exist.
POISON = {"PIO_TINYML_CONVERTER_PYTHON": "/nonexistent/converter/bin/python"}


def env_section(name: str, options: str = "", runtime: str = "none") -> str:
    """One `host` env using the plugin (no TFLM build unless runtime = tflm)."""
    return (
        f"[env:{name}]\nplatform = symlink://{PLATFORMS_DIR}/host\nboard = host\n"
        f"lib_deps = symlink://{REPO_ROOT}\ncustom_tinyml_runtime = {runtime}\n"
        + options.strip()
        + "\n\n"
    )


def make_project(root: Path, sections: Iterable[str]) -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "main.cpp").write_text(MAIN)
    (root / "platformio.ini").write_text("".join(sections))
    return root


def pio_command(args: list[str]) -> list[str]:
    command = [str(PIO), *args]
    return ["unshare", "-n", *command] if network_namespace_available() else command


def run(
    project: Path,
    *envs: str,
    args: Iterable[str] = (),
    env: Optional[dict[str, str]] = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """`pio run -e <env>...` offline; stdout holds stdout and stderr. Past `timeout` s the
    whole process group is killed and the test fails."""
    argv = ["run", *(a for e in envs for a in ("-e", e)), *args]
    proc = subprocess.Popen(
        pio_command(argv),
        cwd=project,
        env=pio_environ(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, _ = proc.communicate(timeout=60)
        raise AssertionError(
            f"pio {' '.join(argv)} did not end within {timeout} s (killed):\n{out}"
        ) from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, None)


def start(
    project: Path, *envs: str, env: Optional[dict[str, str]] = None, log: Optional[Path] = None
) -> subprocess.Popen[bytes]:
    """`pio run` in its own process group (to be killed as a whole), output to `log`."""
    argv = ["run", *(a for e in envs for a in ("-e", e))]
    out = (log or project / "pio.log").open("wb")
    proc = subprocess.Popen(
        pio_command(argv),
        cwd=project,
        env=pio_environ(env),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    return proc


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL the whole process group (pio, SCons, converter workers) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the group's other members are gone too
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def wait_exit(proc: subprocess.Popen[bytes], timeout: float, log: Optional[Path] = None) -> int:
    """The exit code of a `start()`ed build; past `timeout` s its group is killed and the test
    fails with the end of its log."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        text = log.read_text(errors="replace")[-4000:] if log and log.is_file() else ""
        raise AssertionError(
            f"the build did not end within {timeout} s (killed):\n{text}"
        ) from None


def wait_for(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> bool:
    """Wait until `text` appears in the log at `path`; False if the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and text in path.read_text(errors="replace"):
            return True
        if proc.poll() is not None:
            return text in path.read_text(errors="replace")
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not seen in {path} within {timeout} s")


def state_files(project: Path) -> dict[str, str]:
    """sha256 of every generated file of every env and of every conversion cache entry.

    Lock files are left out: a lock for a refused model's key is not a cache entry.
    """
    base = project / ".pio"
    roots = [*base.glob("build/*/tinyml"), base / "tinyml-cache"]
    files: dict[str, str] = {}
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(base).as_posix()
            if path.is_dir():
                files[rel + "/"] = "dir"
            elif path.suffix != ".lock":
                files[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def cache_entries(project: Path) -> list[Path]:
    root = project / ".pio" / "tinyml-cache"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def npy_bytes(shape: tuple[int, ...], fill: float = 0.5) -> bytes:
    """A float32 .npy file (format 1.0) without numpy."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape!r}, }}".encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    count = 1
    for dim in shape:
        count *= dim
    return (
        b"\x93NUMPY\x01\x00"
        + struct.pack("<H", len(header))
        + header
        + (struct.pack("<f", fill) * count)
    )


def error_block(output: str) -> list[str]:
    """The `Error:` line and the indented lines after it."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Error:")]
    assert len(starts) == 1, f"expected exactly one Error: line:\n{output}"
    block = [lines[starts[0]]]
    for line in lines[starts[0] + 1 :]:
        if not line.startswith("       "):
            break
        block.append(line)
    return block


def assert_refused(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Nonzero exit, exactly one `Error:` line with a fix on an indented line, no traceback,
    and every needle (where, what, fix) in the message. Returns the message."""
    output = proc.stdout + (proc.stderr or "")
    assert proc.returncode != 0, output
    assert "Traceback" not in output, output
    block = error_block(output)
    message = "\n".join(block)
    assert len(block) >= 2 and block[-1].strip(), (
        f"no fix on an indented line:\n{message}\n--- whole output:\n{output[-4000:]}"
    )
    for needle in needles:
        assert needle in message, f"{needle!r} not in:\n{message}"
    print(message)  # shown with pytest -rP: the exact message of each case
    return message
