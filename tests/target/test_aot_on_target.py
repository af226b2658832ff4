"""The ahead-of-time runtime (custom_tinyml_runtime = aot) against TFLM's interpreter on the
emulated Cortex-M4 (mps2-an386), Cortex-M0+ (mps2-m0plus) and Cortex-M7 (mps2-an500) with
CMSIS-NN on every model, on the Cortex-M3 (mps2-an385) and Cortex-M33 (mps2-an505) on one model
of each kind (SMALL), and on the Cortex-M4 with TFLM's reference kernels (custom_tinyml_kernels
= reference: the generated code calls them instead of CMSIS-NN):

- the same firmware source is built with each runtime; on every model it prints its int8
  outputs for seeded random int8 inputs, and the AoT lines of each core must equal the
  interpreter's byte for byte. The interpreter runs on the Cortex-M4 only: TFLM's int8 kernels
  give the same bytes on every core (tests/target/test_golden_on_target.py runs the
  interpreter's golden vectors on the M0+, M3, M4, M7 and M33), and one interpreter build
  instead of three keeps the suite's time. The MNIST LSTM is compared by its golden vectors
  only (GOLDEN_ONLY);
- every build runs the golden vectors (TFLM's Python interpreter on the host) bit-exact on its
  own core;
- flash and RAM of the test firmware (arm-none-eabi-size; the suite and golden vectors
  included) and each kArenaSize are printed for the record, not asserted (bench/ measures the
  two runtimes' firmware).

Models: TFLM's hello_world, micro_speech, person detection and MNIST LSTM, MLPerf Tiny's KWS
DS-CNN, AD autoencoder and streaming wake word (int8 .tflite), the digits example's CNN (.pth,
converted by the build) and four small CNNs made here by tests/data/convert/make_<name>.py (the
ADD; PAD, PADV2 and MEAN; CONCATENATION and STRIDED_SLICE; LOGISTIC, TANH and QUANTIZE nodes).
Needs the TFLM/CMSIS-NN sources.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.pio import REPO_ROOT, run_pio
from helpers.targets import RUNNER, env_section, firmware_size, write_project

pytestmark = [pytest.mark.target, pytest.mark.usefixtures("pio_ready", "sources_root")]

TFLITE_MODELS = {
    "hello_world_int8": "tflm_hello_world/hello_world_int8.tflite",
    "kws_ref_model_int8": "mlperf_kws_dscnn/kws_ref_model_int8.tflite",
    "ad01_int8": "mlperf_ad_autoencoder/ad01_int8.tflite",
    "str_ww_ref_model": "mlperf_streaming_wakeword/str_ww_ref_model.tflite",
    "micro_speech_quantized": "tflm_micro_speech/micro_speech_quantized.tflite",
    "person_detect": "tflm_person_detection/person_detect.tflite",
    "trained_lstm_int8": "tflm_mnist_lstm/trained_lstm_int8.tflite",
}
DIGITS = "digits_cnn"
# Made by tests/data/convert/make_<name>.py: ADD; PAD, PADV2 and MEAN; CONCATENATION and
# STRIDED_SLICE; LOGISTIC, TANH and QUANTIZE.
MADE_MODELS = ("residual_cnn", "pad_mean_cnn", "concat_slice_cnn", "activations_cnn")
MODELS = [*TFLITE_MODELS, DIGITS, *MADE_MODELS]
# Checked by their golden vectors only, not against the interpreter build here: TFLM's int8
# LSTM needs more arena on the target than the host's estimate gives this probe-less env
# (tests/target/test_golden_on_target.py runs its golden vectors with the interpreter).
GOLDEN_ONLY = ("trained_lstm_int8",)
COMPARED = [m for m in MODELS if m not in GOLDEN_ONLY]
# The Cortex-M3 and M33 run one model of each kind of node (fully connected, convolutions and
# pooling, ADD, the lookup tables, the LSTM): their CMSIS-NN paths are the M0+'s plain C and the
# M4's DSP code, which run every model above.
SMALL = ["hello_world_int8", "kws_ref_model_int8", "residual_cnn", "activations_cnn",
         "trained_lstm_int8"]  # fmt: skip
# AoT env -> (board, kernels, models); TFLM's reference LSTM is not generated.
AOT_ENVS = {
    "m4_aot": ("mps2-an386", "cmsis-nn", MODELS),
    "m0plus_aot": ("mps2-m0plus", "cmsis-nn", MODELS),
    "m7_aot": ("mps2-an500", "cmsis-nn", MODELS),
    "m3_aot": ("mps2-an385", "cmsis-nn", SMALL),
    "m33_aot": ("mps2-an505", "cmsis-nn", SMALL),
    "m4_reference_aot": ("mps2-an386", "reference", COMPARED),
}
# The interpreter's outputs (CMSIS-NN on the Cortex-M4), the reference of every AoT build.
INTERPRETER_ENV = "m4_tflm"
ENVS = {INTERPRETER_ENV: ("mps2-an386", "cmsis-nn", COMPARED), **AOT_ENVS}
SUITE = "test_aot_compare"
RANDOM_VECTORS = 6

# Every model of the env: the golden vectors (PASS/FAIL + ARENA lines), then seeded random
# int8 inputs whose outputs are printed in hex, 32 bytes a line.
SUITE_MAIN = """\
#include "tinyml/golden_suite.h"
#include "tinyml/model.h"
#include "tinyml/models.h"

namespace {
uint32_t seed;
int8_t next_int8() {
  seed = seed * 1664525u + 1013904223u;
  return static_cast<int8_t>(seed >> 24);
}
template <class M>
int print_outputs() {
  static tinyml::Model<M> model;
  if (!model.begin()) {
    tinyml::log_line("FAIL outputs_%s: begin: %s", M::kName, model.error());
    return 1;
  }
  static int8_t input[M::kInputElements];
  static const char kHex[] = "0123456789abcdef";
  seed = 20250601u;  // each model its own sequence: the envs need not hold the same models
  for (int k = 0; k < @VECTORS@; ++k) {
    for (size_t i = 0; i < M::kInputElements; ++i) input[i] = next_int8();
    if (!model.reset() || !model.set_input_int8(input) || !model.invoke()) {
      tinyml::log_line("FAIL outputs_%s: %s", M::kName, model.error());
      return 1;
    }
    const int8_t* out = model.template output<int8_t>();
    for (size_t start = 0; start < M::kOutputElements; start += 32) {
      char line[65];
      size_t n = 0;
      for (size_t j = start; j < M::kOutputElements && j < start + 32; ++j) {
        const uint8_t b = static_cast<uint8_t>(out[j]);
        line[n++] = kHex[b >> 4];
        line[n++] = kHex[b & 15];
      }
      line[n] = 0;
      tinyml::log_line("OUT %s %d %u %s", M::kName, k, static_cast<unsigned>(start), line);
    }
  }
  tinyml::log_line("PASS outputs_%s", M::kName);
  return 0;
}
}  // namespace

int main() {
  int failed = tinyml::run_all_golden();
#define PRINT_OUTPUTS(name) failed += print_outputs<tinyml::name>();
  TINYML_FOR_EACH_MODEL(PRINT_OUTPUTS)
  return 0;
}
""".replace("@VECTORS@", str(RANDOM_VECTORS))

OUT = re.compile(r"^OUT (\w+) (\d+) (\d+) ([0-9a-f]+)\s*$", re.MULTILINE)
ARENA = re.compile(r"ARENA (\w+) used (\d+) of (\d+)")


@pytest.fixture(scope="module")
def aot_project(
    tmp_path_factory: pytest.TempPathFactory, shared_models: Path, converter_python: Path
) -> Path:
    root = tmp_path_factory.mktemp("aot")
    models = {f"{name}.tflite": shared_models / rel for name, rel in TFLITE_MODELS.items()}
    digits = REPO_ROOT / "examples/mnist-pytorch/models"
    for name in ("digits_cnn.pth", "digits_cnn.py", "calibration.npy", "digits_cnn.labels.txt"):
        models[name] = digits / name
    files = {name: f"models/{name}.tflite" for name in MODELS}
    files[DIGITS] = f"models/{DIGITS}.pth"
    envs = [
        env_section(
            env,
            board,
            custom_tinyml_runtime="tflm" if env == INTERPRETER_ENV else "aot",
            custom_tinyml_kernels=kernels,
            custom_tinyml_input_shape="1, 1, 8, 8",
            custom_tinyml_models=", ".join(files[m] for m in names),
            # This test compares the two runtimes on QEMU itself; the build's probe of each
            # is tested in test_probe.py and test_aot_probe.py.
            custom_tinyml_probe="no",
        )
        for env, (board, kernels, names) in ENVS.items()
    ]
    project = write_project(root, models, envs)
    (project / "src/main.cpp").write_text("int main() { return 0; }\n")  # `pio test` only
    (project / "test" / SUITE).mkdir(parents=True)
    (project / "test" / SUITE / "test_main.cpp").write_text(SUITE_MAIN)
    (project / "test/test_custom_runner.py").write_text(RUNNER)
    for name in MADE_MODELS:
        make = REPO_ROOT / f"tests/data/convert/make_{name}.py"
        out = project / "models" / f"{name}.tflite"
        subprocess.run([str(converter_python), str(make), str(out)], check=True, timeout=900)
    return project


@dataclass(frozen=True)
class Run:
    env: str
    out: str
    returncode: int
    size: dict[str, int]
    seconds: float


_RUNS: dict[str, Run] = {}


def _run(project: Path, env: str) -> Run:
    """`pio test` of the comparison suite, once per env; the size of its firmware."""
    if env in _RUNS:
        return _RUNS[env]
    started = time.monotonic()
    tested = run_pio(["test", "-e", env, "-f", SUITE, "-v"], project, timeout=3600)
    elf = project / ".pio/build" / env / "firmware.elf"
    size = firmware_size(elf) if elf.is_file() else {"text": 0, "data": 0, "bss": 0}
    run = Run(env, tested.stdout, tested.returncode, size, time.monotonic() - started)
    _RUNS[env] = run
    return run


def _outputs(out: str) -> dict[tuple[str, int, int], str]:
    return {(m[1], int(m[2]), int(m[3])): m[4] for m in OUT.finditer(out)}


@pytest.mark.parametrize("env", list(AOT_ENVS))
def test_aot_outputs_equal_the_interpreters(env: str, aot_project: Path) -> None:
    interpreter = _run(aot_project, INTERPRETER_ENV)
    aot = _run(aot_project, env)
    board, kernels, names = AOT_ENVS[env]
    for run, run_names in ((interpreter, COMPARED), (aot, names)):
        assert run.returncode == 0, run.out[-8000:]
        for name in run_names:
            assert f"PASS {name}" in run.out, (run.env, run.out[-4000:])  # golden vectors
            assert f"PASS outputs_{name}" in run.out, (run.env, run.out[-4000:])
    reference = _outputs(interpreter.out)
    assert {key[0] for key in reference} == set(COMPARED)
    compared = [name for name in names if name in COMPARED]
    expected = {key: line for key, line in reference.items() if key[0] in compared}
    got = {key: line for key, line in _outputs(aot.out).items() if key[0] in compared}
    assert len({(name, k) for name, k, _ in expected}) == RANDOM_VECTORS * len(compared)
    assert got == expected
    arenas = {r.env: {m[1]: int(m[3]) for m in ARENA.finditer(r.out)} for r in (interpreter, aot)}
    print(f"\n{env} ({board}, {kernels}): AoT vs the interpreter ({INTERPRETER_ENV})")
    for run in (interpreter, aot):
        size = run.size
        print(
            f"  {run.env:12} .text {size['text']:>8,} .data {size['data']:>6,} "
            f".bss {size['bss']:>7,}  ({run.seconds:.0f} s)"
        )
    for name in names:
        print(
            f"  {name:22} kArenaSize interpreter {arenas[interpreter.env].get(name, 0):>7,} B, "
            f"AoT {arenas[aot.env][name]:>7,} B"
        )
