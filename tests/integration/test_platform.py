"""The local dev-platforms: build and run offline on QEMU and the host, `pio test`, faults."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from helpers.pio import PLATFORMS_DIR, copy_project, run_pio

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("pio_ready")]

EMULATED_BOARDS_DIR = PLATFORMS_DIR / "emulated-cortex-m" / "boards"
EMULATED_BOARDS = sorted(path.stem for path in EMULATED_BOARDS_DIR.glob("*.json"))

# SCB->CPUID part numbers and the ACLE macros each core is compiled with.
CPU_PART = {
    "cortex-m0": 0xC20,
    "cortex-m0plus": 0xC60,
    "cortex-m3": 0xC23,
    "cortex-m4": 0xC24,
    "cortex-m7": 0xC27,
    "cortex-m33": 0xD21,
}
CPU_ARCH = {
    "cortex-m0": 6,
    "cortex-m0plus": 6,
    "cortex-m3": 7,
    "cortex-m4": 7,
    "cortex-m7": 7,
    "cortex-m33": 8,
}
CPU_HAS_DSP = {"cortex-m4", "cortex-m7", "cortex-m33"}
FPU_ARM_FP = {"fpv4-sp-d16": 0x4, "fpv5-sp-d16": 0x4, "fpv5-d16": 0xE}

CPU_REPORT = r"""
#include <cstdint>
#include <cstdio>

int main() {
  const uint32_t cpuid = *reinterpret_cast<volatile uint32_t *>(0xE000ED00u);
#ifdef __ARM_FEATURE_DSP
  const int dsp = 1;
#else
  const int dsp = 0;
#endif
#ifdef __ARM_FP
  const int fp = __ARM_FP;
#else
  const int fp = 0;
#endif
  std::printf("part=0x%03lx arch=%d dsp=%d fp=0x%x\n",
              static_cast<unsigned long>((cpuid >> 4) & 0xFFFu), __ARM_ARCH, dsp, fp);
  return 0;
}
"""


def make_project(root: Path, main_cpp: str, board: str = "mps2-an386") -> Path:
    """A one-file project for `board` of the emulated platform."""
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.cpp").write_text(textwrap.dedent(main_cpp))
    (root / "platformio.ini").write_text(
        f"[env:{board}]\n"
        f"platform = symlink://{PLATFORMS_DIR / 'emulated-cortex-m'}\n"
        f"board = {board}\n"
    )
    return root


@pytest.mark.parametrize("env_name", ["mps2-an386", "host"])
def test_hello_world_runs(tmp_path: Path, env_name: str) -> None:
    project = copy_project("hello-world", tmp_path)
    proc = run_pio(["run", "-e", env_name, "-t", "exec"], project)
    assert proc.returncode == 0, proc.stdout
    assert "Hello from pio-tinyml!" in proc.stdout
    if env_name == "mps2-an386":
        assert "CPUID: 0x410fc24" in proc.stdout
        assert "compiled for: ARMv7-M, DSP 1, FP 0x4" in proc.stdout
        assert "RAM:" not in proc.stdout or "4194304 bytes" in proc.stdout


@pytest.mark.parametrize("env_name", ["mps2-an386", "host"])
def test_hello_world_pio_test(tmp_path: Path, env_name: str) -> None:
    project = copy_project("hello-world", tmp_path)
    proc = run_pio(["test", "-e", env_name], project)
    assert proc.returncode == 0, proc.stdout
    assert "PASS snprintf" in proc.stdout
    assert "2 test cases: 2 succeeded" in proc.stdout


def test_pio_test_reports_failed_case(tmp_path: Path) -> None:
    project = copy_project("hello-world", tmp_path)
    suite = project / "test" / "test_failing"
    suite.mkdir()
    (suite / "test_main.cpp").write_text(
        "#include <cstdio>\n"
        "int main() {\n"
        '  std::printf("PASS fine\\n");\n'
        '  std::printf("FAIL broken: expected 1, got 2\\n");\n'
        '  std::printf("SKIP later: not yet\\n");\n'
        "  return 1;\n"
        "}\n"
    )
    proc = run_pio(["test", "-e", "mps2-an386", "-f", "test_failing"], project)
    assert proc.returncode != 0, proc.stdout
    assert "broken" in proc.stdout and "expected 1, got 2" in proc.stdout
    assert "1 failed" in proc.stdout and "1 succeeded" in proc.stdout, proc.stdout


@pytest.mark.parametrize("board_id", EMULATED_BOARDS)
def test_board_runs_the_cpu_of_its_manifest(tmp_path: Path, board_id: str) -> None:
    manifest = json.loads((EMULATED_BOARDS_DIR / f"{board_id}.json").read_text())
    cpu = manifest["build"]["cpu"]
    core = manifest["emulator"]["core"]  # the core QEMU emulates (reads SCB->CPUID)
    if core != cpu:
        assert "runs on QEMU" in manifest["description"] or "run on QEMU" in manifest["description"]
    fp = FPU_ARM_FP[manifest["build"]["fpu"]] if "fpu" in manifest["build"] else 0

    project = make_project(tmp_path / board_id, CPU_REPORT, board_id)
    proc = run_pio(["run", "-e", board_id, "-t", "exec"], project)
    assert proc.returncode == 0, proc.stdout
    dsp = int(cpu in CPU_HAS_DSP)
    expected = f"part=0x{CPU_PART[core]:03x} arch={CPU_ARCH[cpu]} dsp={dsp} fp=0x{fp:x}"
    assert expected in proc.stdout, proc.stdout
    assert f"-M {manifest['emulator']['machine']} " in proc.stdout


def test_hardfault_exits_nonzero(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        """
        #include <cstdio>
        int main() {
          std::printf("before the fault\\n");
          __builtin_trap();  // undefined instruction: UsageFault escalated to HardFault
          return 0;
        }
        """,
    )
    proc = run_pio(["run", "-e", "mps2-an386", "-t", "exec"], project)
    assert proc.returncode != 0, proc.stdout
    assert "before the fault" in proc.stdout
    assert "*** HardFault" in proc.stdout
    assert "the firmware exited with code 1" in proc.stdout


def test_hung_firmware_times_out(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        """
        int main() {
          for (volatile int i = 0;; ++i) {
          }
        }
        """,
    )
    proc = run_pio(
        ["run", "-e", "mps2-an386", "-t", "exec"], project, env={"TINYML_EXEC_TIMEOUT": "2"}
    )
    assert proc.returncode != 0, proc.stdout
    assert "did not exit within 2 s" in proc.stdout
