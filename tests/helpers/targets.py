"""Small PlatformIO projects for the TFLM-on-target tests: models + a test main, built and
run on the emulated Cortex-M boards through `pio test` / `pio run`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional

from helpers.pio import PLATFORMS_DIR, REPO_ROOT

TFLM_OBJECT = re.compile(r"^Compiling \S*tinyml-tflm", re.MULTILINE)
REUSED = re.compile(r"TinyML: TFLite Micro: reusing cached build ([0-9a-f]{12})")
RUNNER = (
    f"import sys\nsys.path.insert(0, {str(PLATFORMS_DIR / 'testing')!r})\n"
    "from line_protocol_runner import CustomTestRunner  # noqa: F401\n"
)


def env_section(name: str, board: str, **options: str) -> str:
    lines = [
        f"[env:{name}]",
        f"platform = symlink://{PLATFORMS_DIR}/emulated-cortex-m",
        f"board = {board}",
        f"lib_deps = symlink://{REPO_ROOT}",
        "test_framework = custom",
    ]
    lines += [f"{key} = {value}" for key, value in options.items()]
    return "\n".join(lines) + "\n"


def write_project(
    root: Path, models: dict[str, Path], envs: list[str], test_main: Optional[str] = None
) -> Path:
    """models: {file name in models/: source}; envs: [env_section(...)]."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "src").mkdir(exist_ok=True)
    for name, source in models.items():
        if source.is_dir():
            shutil.copytree(source, root / "models" / name, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, root / "models" / name)
    if not (root / "src/main.cpp").exists():
        (root / "src/main.cpp").write_text("int main() { return 0; }\n")
    if test_main is not None:
        (root / "test/test_golden").mkdir(parents=True, exist_ok=True)
        (root / "test/test_golden/test_main.cpp").write_text(test_main)
        (root / "test/test_custom_runner.py").write_text(RUNNER)
    (root / "platformio.ini").write_text("\n".join(envs))
    return root


def tflm_objects_compiled(output: str) -> int:
    """`Compiling .../tinyml-tflm-*/...` lines of a non-verbose build."""
    return len(TFLM_OBJECT.findall(output))


def firmware_size(elf: Path) -> dict[str, int]:
    """.text/.data/.bss of `arm-none-eabi-size` (Berkeley format)."""
    out = subprocess.run(
        ["arm-none-eabi-size", "-B", "-d", str(elf)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    text, data, bss = (int(v) for v in out[1].split()[:3])
    return {"text": text, "data": data, "bss": bss}


def tflm_build_inputs(build_dir: Path) -> dict[str, Any]:
    """The TFLM cache key's inputs of an env's build (`tinyml-tflm-*/cache-key.json`): written
    before anything compiles, whether the archive is then built or taken from the cache."""
    (record,) = build_dir.glob("tinyml-tflm-*/cache-key.json")
    inputs: dict[str, Any] = json.loads(record.read_text())
    return inputs


def assert_runtime_flash_as_linked(build_dir: Path) -> None:
    """The runtime flash the probe measured (what its link kept of the TFLM archive) is within
    5 % of what the firmware's own link kept of the same archive (its map file)."""
    from platformio_plugin.probe.linkmap import flash_bytes

    probed = json.loads((build_dir / "tinyml-probe/result.json").read_text())["runtime_flash"]
    linked = flash_bytes((build_dir / "firmware.map").read_text(), "libtinyml-tflm.a")
    print(f"  runtime flash: probe {probed:,} B, firmware link {linked:,} B")
    assert linked > 0, build_dir
    assert abs(probed - linked) <= 0.05 * linked, (probed, linked)
