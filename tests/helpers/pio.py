"""Run the project's PlatformIO the way the scripts do: offline, in the repo's core dir.

    from helpers.pio import copy_project, run_pio

    project = copy_project("hello-world", tmp_path)
    proc = run_pio(["run", "-e", "mps2-an386", "-t", "exec"], project)
    assert proc.returncode == 0, proc.stdout

`proc.stdout` holds stdout and stderr interleaved (`proc.stderr` is None).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
PIO = REPO_ROOT / ".venv" / "bin" / "pio"
PLATFORMS_DIR = REPO_ROOT / "platforms"
EXAMPLES_DIR = REPO_ROOT / "examples"

# What PlatformIO prints when it reaches for its registry (packages, platforms, libraries).
REGISTRY_ACCESS = re.compile(
    r"registry\.platformio\.org|api\.platformio\.org|Unknown package|HTTPClientError|"
    r"Could not resolve|Installing platformio/",
)


def pio_environ(extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The environment of scripts/env.sh on top of the current one."""
    environ = dict(os.environ)
    environ.update(
        PLATFORMIO_CORE_DIR=str(REPO_ROOT / ".pio-core"),
        PLATFORMIO_DISABLE_UPGRADE_CHECK="true",
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="No",
        PATH=os.pathsep.join([str(REPO_ROOT / ".venv" / "bin"), environ.get("PATH", "")]),
    )
    environ.pop("PLATFORMIO_BUILD_DIR", None)
    if extra:
        environ.update(extra)
    return environ


@functools.cache
def network_namespace_available() -> bool:
    """True when `unshare -n` can cut the network for a child process (root, or userns)."""
    if shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], check=False, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def run_pio(
    args: list[str],
    cwd: Path,
    *,
    offline: bool = True,
    timeout: float = 900,
    env: Optional[dict[str, str]] = None,
) -> subprocess.CompletedProcess[str]:
    """Run `.venv/bin/pio <args>` in `cwd`; never raises on a nonzero exit code.

    offline: run in a network namespace without network (`unshare -n`) when possible, and
    in any case fail if the output shows PlatformIO reaching for its registry.
    env: extra environment variables on top of `pio_environ()`.
    """
    command = [str(PIO), *args]
    if offline and network_namespace_available():
        command = ["unshare", "-n", *command]
    proc = subprocess.run(
        command,
        cwd=cwd,
        env=pio_environ(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    if offline:
        match = REGISTRY_ACCESS.search(proc.stdout)
        assert match is None, f"pio {' '.join(args)} reached for the registry:\n{proc.stdout}"
    return proc


def copy_project(example: str, dest: Path) -> Path:
    """Copy examples/<example> to dest/examples/<example> (without .pio/); return the copy.

    dest/platforms links to the repository's platforms/, so paths relative to the example
    (its test/test_custom_runner.py) still work; platformio.ini's
    `symlink://../../platforms/<name>` is made absolute so PlatformIO's record of the
    platform stays the repository's own.
    """
    target = dest / "examples" / example
    shutil.copytree(EXAMPLES_DIR / example, target, ignore=shutil.ignore_patterns(".pio"))
    if not (dest / "platforms").exists():
        (dest / "platforms").symlink_to(PLATFORMS_DIR, target_is_directory=True)
    ini = target / "platformio.ini"
    ini.write_text(absolutize_platforms(ini.read_text()))
    return target


def absolutize_platforms(ini_text: str) -> str:
    """Rewrite `symlink://../../platforms/` in platformio.ini text to the repository's path."""
    return ini_text.replace("symlink://../../platforms/", f"symlink://{PLATFORMS_DIR}/")
