"""Golden vectors on the emulated Cortex-M4: the firmware's int8 outputs must equal,
byte for byte, what TFLM's Python interpreter computed on the host, with CMSIS-NN
and with reference kernels. Needs the TFLM/CMSIS-NN sources (local sources dir)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from helpers.pio import PLATFORMS_DIR, REPO_ROOT, run_pio

from platformio_plugin.tflm.sources import PINS

pytestmark = [pytest.mark.integration, pytest.mark.tflm, pytest.mark.usefixtures("pio_ready")]

TEST_MAIN = r"""
#include <stdio.h>
#include "tinyml/net.h"
#include "tinyml/net_golden.h"
#include "tinyml/golden.h"
#include "tinyml/model.h"

tinyml::Model<tinyml::net> model;

int main() {
  const int failed = tinyml::run_golden<tinyml::net, tinyml::net_golden>(model);
  printf("ARENA used %u of %u\n", (unsigned)model.arena_used_bytes(),
         (unsigned)tinyml::net::kArenaSize);
  return failed;
}
"""


def _sources_present() -> bool:
    tflm = next(p for p in PINS if p.project == "tflite-micro")
    roots = [os.environ.get("PIO_TINYML_SOURCES"), str(Path.home() / ".pio-tinyml/sources")]
    return any(root and (Path(root) / tflm.folder).is_dir() for root in roots)


@pytest.mark.parametrize("kernels", ["cmsis-nn", "reference"])
def test_hello_world_golden_vectors_bit_exact(
    tmp_path: Path, shared_models: Path, kernels: str
) -> None:
    if not _sources_present():
        pytest.skip(
            "TFLM/CMSIS-NN sources absent: put them in ~/.pio-tinyml/sources "
            "or PIO_TINYML_SOURCES (layout in CONTRIBUTING.md)"
        )
    (tmp_path / "models").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "test/test_golden").mkdir(parents=True)
    shutil.copyfile(
        shared_models / "tflm_hello_world/hello_world_int8.tflite", tmp_path / "models/net.tflite"
    )
    (tmp_path / "src/main.cpp").write_text("int main() { return 0; }\n")
    (tmp_path / "test/test_golden/test_main.cpp").write_text(TEST_MAIN)
    (tmp_path / "test/test_custom_runner.py").write_text(
        f"import sys\nsys.path.insert(0, {str(PLATFORMS_DIR / 'testing')!r})\n"
        "from line_protocol_runner import CustomTestRunner  # noqa: F401\n"
    )
    (tmp_path / "platformio.ini").write_text(
        f"[env:an386]\nplatform = symlink://{PLATFORMS_DIR}/emulated-cortex-m\n"
        f"board = mps2-an386\nlib_deps = symlink://{REPO_ROOT}\ntest_framework = custom\n"
        f"custom_tinyml_kernels = {kernels}\n"
    )
    result = run_pio(["test", "-e", "an386", "-v"], tmp_path, timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "PASS net" in result.stdout, result.stdout[-4000:]
    match = re.search(r"ARENA used (\d+) of (\d+)", result.stdout)
    assert match and int(match.group(1)) <= int(match.group(2))
