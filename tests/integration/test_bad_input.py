"""The bad-input corpus through real `pio run` on the host platform.

One project holds a good model per format and one env per mistake. The good models are
built first; every case then breaks one thing (a file's bytes, or an env declared from the
start: PlatformIO wipes .pio/build whenever platformio.ini changes) and checks: nonzero exit,
exactly one `Error:` message naming the file/option/env, what was found and the fix, no
traceback, and every generated file and conversion cache entry byte-identical to before.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Union

import pytest
from helpers.host_project import (
    POISON,
    assert_refused,
    cache_entries,
    env_section,
    make_project,
    npy_bytes,
    run,
    state_files,
)

from platformio_plugin.options import OPTIONS

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("pio_ready")]

TORCH_MODEL = "torch/réseau v1.pth"  # spaces and non-ASCII in every path: they must work
TORCH_CLASS = "torch/réseau v1.py"
TORCH_CALIB = "torch/réseau v1.calibration.npy"
TORCH_CALIB_DIR = "torch/réseau v1.calibration"
TORCH_OPTIONS = f"custom_tinyml_models = {TORCH_MODEL}\ncustom_tinyml_input_shape = 1, 1, 8, 8"

# A bad value for every option of platformio_plugin.options.OPTIONS: (value, what the message
# must say besides the key, the env and the value).
BAD_VALUES = {
    "models": ("models/gone.tflite", "does not exist"),
    "model_class": ("torch/net.py", "path/to/file.py:ClassName"),
    "model_kwargs": ("[1, 2]", "JSON object"),
    "input_shape": ("1, a, 28", "1, 1, 28, 28"),
    "input_layout": ("nhwc", "auto, keep, nchw"),
    "frontend": ("tflite", "auto, onnx2tf, litert-torch"),
    "calibration": ("nowhere/calibration.npy", "does not exist"),
    "validation": ("nowhere/validation.npz", "does not exist"),
    "labels": ("nowhere/labels.txt", "does not exist"),
    "min_calibration_samples": ("0", "positive whole number"),
    "max_accuracy_drop": ("-1", "number >= 0"),
    "trust_pickle": ("maybe", "yes or no"),
    "golden_vectors": ("four", "integer"),
    "test_suite": ("sometimes", "auto, yes, no"),
    "kernels": ("fast", "auto, cmsis-nn, reference"),
    "runtime": ("zephyr", "tflm, aot, none"),
    "aot_in_place": ("yes", "auto, no"),
    "probe": ("always", "auto, no"),
    "arena_size": ("64k", "bytes"),
    "sources_dir": ("nowhere/sources", "not a folder"),
    "allow_sources_mismatch": ("sometimes", "yes or no"),
    "kernel_optimization": ("-O9", "-O1, -O2, -O3, -Os, -Ofast"),
    "library_flags": ("-DX=1 -O3", "use custom_tinyml_kernel_optimization for -O"),
    "runtime_ram": ("lots", "bytes"),
    "runtime_flash": ("0", "positive whole number"),
}

Change = Union[bytes, None, dict[str, bytes]]  # file bytes, removed, or a folder of files


@contextlib.contextmanager
def changed(root: Path, changes: dict[str, Change]) -> Iterator[None]:
    """Apply file changes under `root`, then put everything back as it was."""
    backup = Path(tempfile.mkdtemp(prefix="reliability-backup-"))
    saved: dict[str, Optional[Path]] = {}
    try:
        for i, (rel, new) in enumerate(changes.items()):
            path = root / rel
            saved[rel] = None
            if path.is_dir():
                saved[rel] = backup / str(i)
                shutil.copytree(path, saved[rel])
                shutil.rmtree(path)
            elif path.exists():
                saved[rel] = backup / str(i)
                shutil.copyfile(path, saved[rel])
                path.unlink()
            if isinstance(new, bytes):
                path.write_bytes(new)
            elif isinstance(new, dict):
                path.mkdir()
                for name, data in new.items():
                    (path / name).write_bytes(data)
        yield
    finally:
        for rel, old in saved.items():
            path = root / rel
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
            if old is not None and old.is_dir():
                shutil.copytree(old, path)
            elif old is not None:
                shutil.copyfile(old, path)
        shutil.rmtree(backup)


@dataclass
class Corpus:
    root: Path
    data: Path
    models: Path

    def refused(
        self,
        env: str,
        *needles: str,
        changes: Optional[dict[str, Change]] = None,
        new_cache_entry: bool = False,
        extra_env: Optional[dict[str, str]] = None,
    ) -> str:
        before = state_files(self.root)
        assert before, "the good models were not built"
        with changed(self.root, changes or {}):
            proc = run(self.root, env, env=extra_env)
        message = assert_refused(proc, *needles)
        after = state_files(self.root)
        if new_cache_entry:  # a complete conversion of a valid model may be added, nothing else
            assert {k: after.get(k) for k in before} == before
            assert all(k.startswith("tinyml-cache/") for k in set(after) - set(before))
        else:
            assert after == before
        return message


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, rdata: Path, shared_models: Path) -> Corpus:
    root = tmp_path_factory.mktemp("corpus") / "prøject with späces ünïcode"
    for folder in ("models", "torch", "other"):
        (root / folder).mkdir(parents=True)
    shutil.copyfile(shared_models / "tflm_hello_world/hello_world_int8.tflite",
                    root / "models/net.tflite")  # fmt: skip
    shutil.copyfile(rdata / "cnn.pth", root / TORCH_MODEL)
    shutil.copyfile(Path(__file__).parents[1] / "data/convert/small_cnn.py", root / TORCH_CLASS)
    shutil.copyfile(rdata / "cnn_calib.npy", root / TORCH_CALIB)
    shutil.copyfile(shared_models / "mlperf_kws_dscnn/kws_ref_model_int8.tflite",
                    root / "other/kws.tflite")  # fmt: skip
    sections = [
        env_section("good"),  # every model file in models/
        env_section("torch", TORCH_OPTIONS),
        env_section("torch_shape", TORCH_OPTIONS.replace("1, 1, 8, 8", "1, 3, 8, 8")),
        env_section("pt2", "custom_tinyml_models = other/net.pt2\n"
                           f"custom_tinyml_calibration = {TORCH_CALIB}"),
        env_section("onnx", "custom_tinyml_models = other/net.onnx\n"
                            f"custom_tinyml_calibration = {TORCH_CALIB}"),
        env_section("typo", "custom_tinyml_calibraton = models/calibration.npy"),
        env_section("flash", "board_upload.maximum_size = 2048\ncustom_tinyml_runtime_flash = 1"),
        env_section("ram", "board_upload.maximum_ram_size = 4096\n"
                           "custom_tinyml_models = other/kws.tflite"),
        *(env_section(f"opt_{name}", f"custom_tinyml_{name} = {value}")
          for name, (value, _) in BAD_VALUES.items() if name != "runtime"),
        env_section("opt_runtime", runtime=BAD_VALUES["runtime"][0]),
    ]  # fmt: skip
    make_project(root, sections)
    first = run(root, "good", "torch")
    assert first.returncode == 0, first.stdout
    return Corpus(root, rdata, shared_models)


def _random(size: int) -> bytes:
    return random.Random(size).randbytes(size)


# --- paths with spaces and non-ASCII characters ------------------------------------------


def test_paths_with_spaces_and_non_ascii_work(corpus: Corpus) -> None:
    generated = corpus.root / ".pio/build/torch/tinyml/tinyml/r_seau_v1.h"
    assert "struct r_seau_v1" in generated.read_text()
    assert "models/net.tflite" in (corpus.root / ".pio/build/good/tinyml/tinyml/net.h").read_text()
    again = run(corpus.root, "good", "torch", env=POISON)
    assert again.returncode == 0, again.stdout
    assert again.stdout.count("TinyML: models up to date") == 2


# --- model files --------------------------------------------------------------------------


def test_missing_model_file(corpus: Corpus) -> None:
    corpus.refused("opt_models", "models/gone.tflite", "custom_tinyml_models", "[env:opt_models]",
                   "does not exist", "Fix the path")  # fmt: skip


def test_empty_model_file(corpus: Corpus) -> None:
    corpus.refused("good", "net.tflite", "is empty (0 bytes)", "export the model again",
                   changes={"models/net.tflite": b""})  # fmt: skip


@pytest.mark.parametrize("damage", ["truncated", "random"])
@pytest.mark.parametrize(
    ("env", "rel", "expect"),
    [
        ("good", "models/net.tflite", {"truncated": "damaged TFLite file",
                                       "random": "not a TFLite flatbuffer"}),
        ("torch", TORCH_MODEL, {"truncated": "not a PyTorch file",
                                "random": "not a PyTorch file"}),
        ("pt2", "other/net.pt2", {"truncated": "cannot be read as a PyTorch model",
                                  "random": "cannot be read as a PyTorch model"}),
        ("onnx", "other/net.onnx", {"truncated": "not a readable ONNX model",
                                    "random": "not a readable ONNX model"}),
    ],
)  # fmt: skip
def test_damaged_model_file(
    corpus: Corpus, env: str, rel: str, expect: dict[str, str], damage: str
) -> None:
    good = {
        "good": corpus.models / "tflm_hello_world/hello_world_int8.tflite",
        "torch": corpus.data / "cnn.pth",
        "pt2": corpus.data / "cnn.pt2",
        "onnx": corpus.models / "onnx_mnist8_modelzoo/mnist-8.onnx",
    }[env].read_bytes()
    content = good[: len(good) // 2] if damage == "truncated" else _random(len(good))
    corpus.refused(env, Path(rel).name, expect[damage], changes={rel: content})


def test_keras_h5_without_calibration_names_the_option(corpus: Corpus) -> None:
    keras = (corpus.models / "mlperf_ad_autoencoder/ad01.h5").read_bytes()
    corpus.refused("good", "ad01.h5", "is a float model and no calibration data was given",
                   "custom_tinyml_calibration", changes={"models/ad01.h5": keras})  # fmt: skip


def test_tensorflow_graph_says_which_formats_are_supported(corpus: Corpus) -> None:
    corpus.refused("good", "frozen.pb", "a TensorFlow graph", "Supported: .pth/.pt", ".onnx",
                   ".h5/.keras", changes={"models/frozen.pb": b"\x0a\x0cgraph bytes"})  # fmt: skip


def test_extension_that_lies_about_the_content(corpus: Corpus) -> None:
    pth = (corpus.data / "cnn.pth").read_bytes()
    corpus.refused("good", "net.tflite", "is named .tflite but its content is a zip archive",
                   "Rename it to net.pth/.pt/.pt2", changes={"models/net.tflite": pth})  # fmt: skip


@pytest.mark.parametrize(("env", "rel", "evil"), [
    ("torch", TORCH_MODEL, "evil.pth"),
    ("pt2", "other/net.pt2", "evil.pt2"),
])  # fmt: skip
def test_pickle_payload_never_runs(corpus: Corpus, env: str, rel: str, evil: str) -> None:
    marker = corpus.data / "pickle_payload_ran"
    corpus.refused(env, Path(rel).name, "would run arbitrary code",
                   "custom_tinyml_trust_pickle = yes",
                   changes={rel: (corpus.data / evil).read_bytes()})  # fmt: skip
    assert not marker.exists(), "code from the model file ran although trust was not given"


# --- the model class of a state_dict -------------------------------------------------------

MISMATCHED_CLASS = (
    (Path(__file__).parents[1] / "data/convert/small_cnn.py")
    .read_text()
    .replace("channels=8", "channels=4")
)


def test_state_dict_without_class(corpus: Corpus) -> None:
    corpus.refused("torch", "réseau v1.pth", "is a state_dict", "réseau v1.py",
                   "custom_tinyml_model_class", changes={TORCH_CLASS: None})  # fmt: skip


def test_class_that_does_not_match_the_state_dict(corpus: Corpus) -> None:
    corpus.refused("torch", "réseau v1.pth", "does not match", "SmallCNN",
                   "size mismatch for features.0.weight", "the weights were trained with",
                   changes={TORCH_CLASS: MISMATCHED_CLASS.encode()})  # fmt: skip


def test_class_file_with_a_syntax_error(corpus: Corpus) -> None:
    broken = b"import torch.nn as nn\n\nclass SmallCNN(nn.Module:\n    pass\n"
    corpus.refused("torch", "réseau v1.py has a syntax error at line 3", "[env:torch]",
                   changes={TORCH_CLASS: broken})  # fmt: skip


def test_class_whose_import_raises(corpus: Corpus) -> None:
    raising = MISMATCHED_CLASS + "\nraise RuntimeError('no GPU found')\n"
    corpus.refused("torch", "réseau v1.py", "RuntimeError: no GPU found", "imports on its own",
                   changes={TORCH_CLASS: raising.encode()})  # fmt: skip


def test_wrong_input_shape(corpus: Corpus) -> None:
    corpus.refused("torch_shape", "réseau v1.pth", "(1, 3, 8, 8)", "Check the input shape")


# --- calibration data ----------------------------------------------------------------------


@pytest.mark.parametrize(("case", "content", "expect"), [
    ("wrong shape", npy_bytes((50, 1, 8, 9)), "shape (50, 1, 8, 9), expected (N, 1, 8, 8)"),
    ("wrong rank", npy_bytes((50, 64)), "rank 2 (50, 64), expected rank 4"),
    ("channels last", "bad_nhwc.npy", "Transpose it"),
    ("non-numeric", "bad_text.npy", "non-numeric dtype"),
    ("NaN/Inf", "bad_nan.npy", "1 NaN/Inf value(s)"),
    ("too few samples", "bad_few.npy", "3 sample(s); at least 10"),
])  # fmt: skip
def test_bad_calibration_file(
    corpus: Corpus, case: str, content: Union[bytes, str], expect: str
) -> None:
    data = content if isinstance(content, bytes) else (corpus.data / content).read_bytes()
    corpus.refused("torch", "réseau v1.calibration.npy", expect, changes={TORCH_CALIB: data})


@pytest.mark.parametrize(("case", "files", "expect"), [
    ("empty folder", {}, "is an empty folder"),
    ("unreadable image", {"digit0.png": b"\x89PNG\r\n\x1a\nnot really"}, "not a readable image"),
])  # fmt: skip
def test_bad_calibration_folder(
    corpus: Corpus, case: str, files: dict[str, bytes], expect: str
) -> None:
    name = "digit0.png" if files else "réseau v1.calibration"
    corpus.refused("torch", name, expect,
                   changes={TORCH_CALIB: None, TORCH_CALIB_DIR: files})  # fmt: skip


# --- ops and board budget ------------------------------------------------------------------


def test_op_tflite_micro_lacks_lists_every_offender(corpus: Corpus) -> None:
    message = corpus.refused(
        "good",
        "net.tflite",
        "TFLite Micro does not support",
        "Replace these layers",
        changes={"models/net.tflite": (corpus.data / "unsupported.tflite").read_bytes()},
    )
    assert message.count("EMBEDDING_LOOKUP_SPARSE (node ") == 3, message


def test_model_over_the_boards_flash(corpus: Corpus) -> None:
    corpus.refused("flash", "net", "board host", "2,704", "2,048", "flash")


def test_arena_over_the_boards_ram(corpus: Corpus) -> None:
    corpus.refused("ram", "kws", "board host", "4,096", "RAM", new_cache_entry=True)


# --- options -------------------------------------------------------------------------------


def test_unknown_option_gets_a_suggestion(corpus: Corpus) -> None:
    corpus.refused("typo", "custom_tinyml_calibraton", "[env:typo]",
                   "Did you mean `custom_tinyml_calibration`?", extra_env=POISON)  # fmt: skip


def test_every_option_has_a_bad_value_case() -> None:
    assert set(BAD_VALUES) == {opt.name for opt in OPTIONS}


@pytest.mark.parametrize("name", [opt.name for opt in OPTIONS])
def test_bad_option_value(corpus: Corpus, name: str) -> None:
    value, expect = BAD_VALUES[name]
    corpus.refused(f"opt_{name}", f"custom_tinyml_{name}", f"[env:opt_{name}]", value, expect,
                   extra_env=POISON)  # fmt: skip
    assert len(cache_entries(corpus.root)) >= 2
