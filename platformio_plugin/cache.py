"""Content fingerprints, stamps, the env's manifest and the conversion cache entries.

A build is skipped when the fingerprint of everything that can change its output
(model bytes, calibration/validation data, class file, options, converter pins, plugin
version) matches the stamp written last by the previous successful run. Only contents
count: touching a file changes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from . import __version__, files
from .config import ModelSpec, PluginConfig
from .convert import frontends
from .convert.protocol import GOLDEN_NAME, REPORT_NAME, TFLITE_NAME
from .results import ConversionEntry, PreparedEnv

STAMP_NAME = "fingerprint.json"
MANIFEST = "manifest.json"
REQUIREMENTS = Path(__file__).parent / "convert" / "requirements.txt"
LITERT_TORCH_REQUIREMENTS = REQUIREMENTS.with_name("requirements-litert-torch.txt")
# Bumped when what a conversion stores changes, so older cache entries are redone.
CACHE_FORMAT = 3
CONVERT_OPTIONS = (
    "min_calibration_samples",
    "max_accuracy_drop",
    "trust_pickle",
    "golden_vectors",
    "input_layout",
    "frontend",  # PyTorch models only (see _conversion_inputs)
)


def hash_path(digest: hashlib._Hash, path: Optional[Path]) -> None:
    """Feed a file's bytes, or a folder's relative names and bytes, into a digest."""
    if path is None:
        digest.update(b"\0none")
        return
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(child.relative_to(path)).encode("utf-8") + b"\0")
            hash_path(digest, child)
        return
    digest.update(f"\0file {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def fingerprint(named_files: Mapping[str, Optional[Path]], settings: Mapping[str, Any]) -> str:
    """sha256 over named input files (contents only) and JSON-able settings."""
    digest = hashlib.sha256()
    digest.update(f"pio-tinyml {__version__}\0".encode())
    for name in sorted(named_files):
        digest.update(name.encode() + b"\0")
        hash_path(digest, named_files[name])
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def read_stamp(folder: Path) -> Optional[str]:
    try:
        data = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("fingerprint") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def write_stamp(folder: Path, key: str, about: Optional[Mapping[str, Any]] = None) -> None:
    """Written last: a folder without a matching stamp is never taken as done. ``about``
    (a conversion's model and the digest of each input) lets a later build say what changed."""
    files.write_atomic(
        folder / STAMP_NAME, json.dumps({"fingerprint": key, **(about or {})}) + "\n"
    )


def clear_stamp(folder: Path) -> None:
    """Before regenerating: a run killed while writing must not leave new files under an
    old stamp that a later build would take as up to date."""
    (folder / STAMP_NAME).unlink(missing_ok=True)


# ---------------------------------------------------------------- keys


def conversion_key(spec: ModelSpec, config: PluginConfig) -> str:
    """What decides the int8 model: inputs, convert options, converter pins."""
    inputs, settings = _conversion_inputs(spec, config)
    return fingerprint(inputs, settings)


def _conversion_inputs(
    spec: ModelSpec, config: PluginConfig
) -> tuple[dict[str, Optional[Path]], dict[str, Any]]:
    class_file = Path(spec.model_class.rpartition(":")[0]) if spec.model_class else None
    inputs = {
        "model": spec.path,
        "class": class_file,
        "calibration": spec.calibration,
        "validation": spec.validation,
        "requirements": REQUIREMENTS if REQUIREMENTS.exists() else None,
    }
    settings = {
        "format": spec.fmt,
        "class_name": spec.model_class.rpartition(":")[2] if spec.model_class else None,
        "kwargs": dict(spec.model_kwargs),
        "input_shape": spec.input_shape,
        "cache_format": CACHE_FORMAT,
        **config.options.subset(CONVERT_OPTIONS),
    }
    if not frontends.applies(spec.fmt):  # one route: the option changes nothing
        del settings["frontend"]
    elif frontends.LITERT_TORCH in frontends.torch_routes(
        config.options.frontend, config.options.input_layout
    ):
        inputs["litert_requirements"] = LITERT_TORCH_REQUIREMENTS
    return inputs, settings


# How the build names each part of a conversion's inputs when it says what changed.
PART_NAMES = {
    "model": "the model file",
    "class": "the model class file",
    "calibration": "the calibration data",
    "validation": "the validation data",
    "requirements": "the converter's pinned versions",
    "litert_requirements": "the LiteRT Torch environment's pinned versions",
    "class_name": "custom_tinyml_model_class",
    "kwargs": "custom_tinyml_model_kwargs",
    "input_shape": "custom_tinyml_input_shape",
    "format": "the model format",
    "cache_format": "pio-tinyml's cache format",
}


def conversion_about(spec: ModelSpec, config: PluginConfig) -> dict[str, Any]:
    """The model and one digest per input and setting, kept in the entry's stamp."""
    inputs, settings = _conversion_inputs(spec, config)
    parts = {name: fingerprint({name: path}, {}) for name, path in inputs.items()}
    parts.update({name: fingerprint({}, {name: value}) for name, value in settings.items()})
    parts["plugin"] = __version__
    # Project-relative: a stamp holds no machine path, so entries stay byte-identical.
    return {"model": config.display(spec.path), "parts": parts}


def what_changed(config: PluginConfig, about: Mapping[str, Any]) -> list[str]:
    """What differs from the model's newest earlier conversion in this project, by name
    ("the calibration data", "custom_tinyml_input_layout"); [] when there is none."""
    earlier = []
    for stamp in config.cache_dir.glob(f"*/{STAMP_NAME}"):
        try:
            data = json.loads(stamp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("model") == about["model"]:
            earlier.append((stamp.stat().st_mtime, data.get("parts") or {}))
    if not earlier:
        return []
    before = max(earlier, key=lambda item: item[0])[1]
    now = about["parts"]
    changed = sorted(name for name in now if before.get(name) != now[name])
    if "plugin" in changed:
        return ["pio-tinyml's version"]
    return [PART_NAMES.get(name, f"custom_tinyml_{name}") for name in changed]


PACKAGE = Path(__file__).resolve().parent
# What renders the generated files: a change to any of them regenerates them.
CODEGEN_FILES = ("codegen/model_files.py", "codegen/env_files.py", "tflm/op_table.py")


@functools.cache
def codegen_digest() -> str:
    digest = hashlib.sha256()
    paths = [PACKAGE / rel for rel in CODEGEN_FILES]
    paths += sorted((PACKAGE / "codegen" / "templates").glob("*.tmpl"))
    paths += sorted((PACKAGE / "aot").rglob("*.py"))  # the ahead-of-time generator
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def generation_key(config: PluginConfig, conv_keys: Sequence[str]) -> str:
    """What decides the generated files of one env: conversions + board + codegen options."""
    labels = {f"labels{i}": spec.labels_path for i, spec in enumerate(config.models)}
    settings = {
        "models": [
            (
                s.name,
                str(s.path.relative_to(config.project_dir))
                if s.path.is_relative_to(config.project_dir)
                else str(s.path),
            )
            for s in config.models
        ],
        "conversions": list(conv_keys),
        "cpu": config.board.cpu,
        "fpu": config.board.fpu,
        "board": config.board.board_id,
        "kernels": config.kernels.kernels,
        "arena_size": config.options.arena_size,
        "runtime": [config.options.runtime_flash, config.options.runtime_ram],
        "probe": [config.options.runtime, config.options.probe],
        "aot_in_place": config.options.aot_in_place,
        "codegen": codegen_digest(),
    }
    return fingerprint(labels, settings)


# ---------------------------------------------------------------- the env's manifest


def read_manifest(generated_dir: Path) -> Optional[PreparedEnv]:
    try:
        data = json.loads((generated_dir / MANIFEST).read_text(encoding="utf-8"))
        return PreparedEnv.from_json(data, generated_dir)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def up_to_date(generated_dir: Path, key: str) -> Optional[PreparedEnv]:
    """The env as the last build left it, when its stamp matches `key`."""
    if read_stamp(generated_dir) != key:
        return None
    return read_manifest(generated_dir)


def write_manifest(prepared: PreparedEnv) -> None:
    text = json.dumps(prepared.to_json(), indent=1, sort_keys=True, default=str)
    files.write_atomic(prepared.generated_dir / MANIFEST, text)


# ---------------------------------------------------------------- conversion entries


def entry_dir(config: PluginConfig, key: str) -> Path:
    """Conversions are shared by every env of the project (same model -> convert once)."""
    return config.cache_dir / key


def entry_done(entry: Path, key: str) -> bool:
    return read_stamp(entry) == key and (entry / TFLITE_NAME).is_file()


def read_entry(entry: Path) -> ConversionEntry:
    """A finished entry's files, each read once."""
    tflite = entry / TFLITE_NAME
    report = json.loads((entry / REPORT_NAME).read_text(encoding="utf-8"))
    try:
        golden = json.loads((entry / GOLDEN_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        golden = {}
    vectors = golden.get("vectors", [])
    return ConversionEntry(
        folder=entry,
        tflite=tflite,
        data=tflite.read_bytes(),
        report=report,
        golden_inputs=tuple(bytes(v & 0xFF for v in vec["input"]) for vec in vectors),
        golden_outputs=tuple(bytes(v & 0xFF for v in vec["output"]) for vec in vectors),
    )


def clean_env(config: PluginConfig) -> list[Path]:
    """tinyml-clean: what belongs to this env (generated files, conversion logs, HTML
    reports). The conversion cache is shared by every env of the project and stays."""
    removed = []
    for folder in (config.generated_dir, config.build_dir / "tinyml-logs", config.reports_dir):
        if folder.exists():
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


def clean_conversions(config: PluginConfig) -> list[Path]:
    """tinyml-clean-cache: the project's conversion cache (every env's), so the next build
    of each env converts again."""
    if not config.cache_dir.exists():
        return []
    shutil.rmtree(config.cache_dir)
    return [config.cache_dir]
