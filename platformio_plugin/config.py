"""Project options + board manifest -> frozen dataclasses.

Everything after this module works on ``PluginConfig`` / ``ModelSpec`` /
``BoardSpec`` only: no raw strings, no PlatformIO objects.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from .convert.formats import MODEL_SUFFIXES, REFUSED_IN_MODELS_DIR, check_suffix, is_saved_model
from .convert.frontends import check_frontend
from .errors import ConfigError, ModelFileError
from .names import c_identifier, check_cpp_name
from .options import PREFIX, Options, parse_options
from .tflm.cpu import KernelChoice, choose_kernels

CALIBRATION_SUFFIXES = (".npy", ".npz", ".csv")
MODELS_DIR = "models"


@dataclass(frozen=True)
class BoardSpec:
    """What the budget check and the kernel choice need to know about the board."""

    board_id: str
    cpu: str = ""
    mcu: str = ""
    max_flash: int = 0  # upload.maximum_size, 0 = unknown
    max_ram: int = 0  # upload.maximum_ram_size, 0 = unknown
    f_cpu: int = 0  # build.f_cpu in Hz, 0 = unknown
    fpu: str = ""  # the env's -mfpu value ("fpv4-sp-d16"), "" when it sets none


@dataclass(frozen=True)
class ModelSpec:
    """One model of an env, with every sidecar file resolved."""

    name: str  # C identifier, also the namespace / header name
    path: Path
    model_class: Optional[str] = None  # "path/to/file.py:ClassName" (absolute path)
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    input_shape: Optional[tuple[int, ...]] = None
    calibration: Optional[Path] = None
    validation: Optional[Path] = None
    labels: tuple[str, ...] = ()
    labels_path: Optional[Path] = None

    @property
    def fmt(self) -> str:
        return "saved_model" if self.path.is_dir() else self.path.suffix.lower()


@dataclass(frozen=True)
class PluginConfig:
    env_name: str
    project_dir: Path
    build_dir: Path
    board: BoardSpec
    models: tuple[ModelSpec, ...]
    options: Options
    kernels: KernelChoice  # chosen once, from the board and `custom_tinyml_kernels`
    workspace_dir: Optional[Path] = None  # PlatformIO's .pio; default: above build_dir

    @property
    def cache_dir(self) -> Path:
        """Conversions shared by every env of the project; outside build/, which
        PlatformIO wipes whenever platformio.ini changes."""
        return self.workspace / "tinyml-cache"

    @property
    def workspace(self) -> Path:
        return self.workspace_dir or self.build_dir.parent.parent

    @property
    def reports_dir(self) -> Path:
        """`.pio/tinyml-reports/<env>/`: beside the build folder, which PlatformIO deletes
        when platformio.ini changes."""
        return self.workspace / "tinyml-reports" / self.env_name

    @property
    def generated_dir(self) -> Path:
        """Generated headers live in the build folder, never in the user's src/."""
        return self.build_dir / "tinyml"

    def display(self, path: Path) -> str:
        """A path as the build log shows it: relative to the project when inside it."""
        try:
            return str(path.relative_to(self.project_dir))
        except ValueError:
            return str(path)


def board_spec(board_id: str, manifest: Mapping[str, Any], fpu: str = "") -> BoardSpec:
    """Read the fields the plugin needs from a board manifest (PlatformIO JSON); ``fpu``:
    the -mfpu value of the env's compiler flags (its platform's builder decides it)."""
    build = manifest.get("build", {}) or {}
    upload = manifest.get("upload", {}) or {}
    return BoardSpec(
        board_id=board_id,
        cpu=str(build.get("cpu", "")).lower(),
        mcu=str(build.get("mcu", "")).lower(),
        max_flash=int(upload.get("maximum_size", 0) or 0),
        max_ram=int(upload.get("maximum_ram_size", 0) or 0),
        f_cpu=_hertz(build.get("f_cpu", "")),
        fpu=fpu,
    )


def _hertz(value: Any) -> int:
    """``build.f_cpu`` ("168000000L") in Hz; 0 when absent or unreadable."""
    text = str(value or "").strip().rstrip("Ll").strip()
    return int(text) if text.isdigit() else 0


def has_tinyml_options(raw: Mapping[str, Any]) -> bool:
    return any(key.startswith(PREFIX) for key in raw)


def discover_model_paths(
    project_dir: Path, listed: Optional[tuple[str, ...]], env_name: str
) -> list[Path]:
    """Models named by `custom_tinyml_models`, else every model file in models/."""
    if listed:
        paths = []
        for item in listed:
            path = (project_dir / Path(item).expanduser()).resolve()
            if not (path.is_file() or is_saved_model(path)):
                raise ModelFileError(
                    f"Model file {item} (custom_tinyml_models in [env:{env_name}]) does not exist.",
                    f"Looked for {path}. Fix the path or put the model there.",
                )
            paths.append(path)
        return paths
    folder = project_dir / MODELS_DIR
    if not folder.is_dir():
        return []
    wanted = MODEL_SUFFIXES + REFUSED_IN_MODELS_DIR
    return sorted(
        p
        for p in folder.iterdir()
        if (p.is_file() and p.suffix.lower() in wanted) or is_saved_model(p)
    )


def _sidecar(
    folder: Path, stem: str, kinds: tuple[str, ...], shared: str, allow_dir: bool = False
) -> Optional[Path]:
    """`<stem>.<shared>.<ext>`, `<stem>.<shared>/`, then `<shared>.<ext>`, `<shared>/`."""
    for base in (f"{stem}.{shared}", shared):
        for suffix in kinds:
            if (folder / (base + suffix)).is_file():
                return folder / (base + suffix)
        if allow_dir and (folder / base).is_dir():
            return folder / base
    return None


def module_classes(source: str) -> list[str]:
    """Names of classes in a Python file that subclass an nn.Module, without importing it."""
    tree = ast.parse(source)
    names = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(b) for b in node.bases]
            if any(b.split(".")[-1] == "Module" for b in bases):
                names.append(node.name)
    return names


def _default_model_class(path: Path, env_name: str) -> Optional[str]:
    class_file = path.with_suffix(".py")
    if path.suffix.lower() != ".pth" or not class_file.is_file():
        return None
    try:
        names = module_classes(class_file.read_text(encoding="utf-8"))
    except SyntaxError as exc:
        raise ConfigError(
            f"{class_file.name} has a syntax error at line {exc.lineno}: {exc.msg}.",
            f"Fix the file, or set custom_tinyml_model_class in [env:{env_name}].",
        ) from None
    if len(names) == 1:
        return f"{class_file}:{names[0]}"
    listing = ", ".join(names) if names else "none"
    raise ConfigError(
        f"{class_file.name} defines {len(names)} nn.Module classes ({listing}); "
        f"pio-tinyml cannot tell which one {path.name} holds.",
        f"Set custom_tinyml_model_class = {MODELS_DIR}/{class_file.name}:ClassName "
        f"in [env:{env_name}].",
    )


def _read_labels(path: Optional[Path]) -> tuple[str, ...]:
    if path is None:
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


def _resolve(project_dir: Path, value: Optional[str]) -> Optional[Path]:
    if not value:
        return None
    return (project_dir / Path(value).expanduser()).resolve()


def _require_exists(path: Optional[Path], option: str, env_name: str) -> Optional[Path]:
    if path is not None and not path.exists():
        raise ConfigError(
            f"{PREFIX}{option} in [env:{env_name}] points at {path}, which does not exist.",
            "Fix the path (relative paths start at the project folder).",
        )
    return path


def _check_sources_dir(value: Optional[str], project_dir: Path, env_name: str) -> None:
    if not value:
        return
    path = _resolve(project_dir, value)
    if path is not None and not path.is_dir():
        raise ConfigError(
            f"{PREFIX}sources_dir in [env:{env_name}] points at {path}, which is not a folder.",
            "Fix the path to the folder holding the unpacked TFLM / CMSIS-NN archives, "
            "or remove the option to use the default lookup (see the README).",
        )


def model_spec(path: Path, project_dir: Path, opts: Options, env_name: str) -> ModelSpec:
    check_suffix(path, path.name)
    folder, stem = path.parent, path.stem
    model_class = opts.model_class
    if model_class:
        file_part, _, class_name = model_class.rpartition(":")
        class_path = _require_exists(_resolve(project_dir, file_part), "model_class", env_name)
        model_class = f"{class_path}:{class_name}"
    else:
        model_class = _default_model_class(path, env_name)
    calibration = _require_exists(_resolve(project_dir, opts.calibration), "calibration", env_name)
    validation = _require_exists(_resolve(project_dir, opts.validation), "validation", env_name)
    labels_path = _require_exists(_resolve(project_dir, opts.labels), "labels", env_name)
    return ModelSpec(
        name=c_identifier(stem),
        path=path,
        model_class=model_class,
        model_kwargs=dict(opts.model_kwargs or {}),
        input_shape=opts.input_shape,
        calibration=calibration
        or _sidecar(folder, stem, CALIBRATION_SUFFIXES, "calibration", allow_dir=True),
        validation=validation or _sidecar(folder, stem, (".npz",), "validation"),
        labels_path=labels_path or _sidecar(folder, stem, (".txt",), "labels"),
        labels=_read_labels(labels_path or _sidecar(folder, stem, (".txt",), "labels")),
    )


def load_config(
    raw_options: Mapping[str, Any],
    *,
    env_name: str,
    project_dir: Path,
    build_dir: Path,
    board: BoardSpec,
    workspace_dir: Optional[Path] = None,
) -> PluginConfig:
    """Validate options and resolve the env's models. Raises ConfigError / ModelFileError."""
    opts = parse_options(raw_options, env_name)
    _check_sources_dir(opts.sources_dir, project_dir, env_name)
    paths = discover_model_paths(project_dir, opts.models, env_name)
    specs = tuple(model_spec(p, project_dir, opts, env_name) for p in paths)
    check_frontend(
        opts.frontend, [spec.fmt for spec in specs], opts.input_layout, f"[env:{env_name}]"
    )
    seen: dict[str, Path] = {}
    for spec in specs:
        check_cpp_name(spec.name, spec.path, env_name)
        # Case-insensitive: tinyml/Net.h and tinyml/net.h are one file on Windows and macOS.
        if spec.name.lower() in seen:
            raise ConfigError(
                f"Models {seen[spec.name.lower()].name} and {spec.path.name} in [env:{env_name}] "
                f"both become `{spec.name}` in C++ (or differ only in case).",
                "Rename one of the files.",
            )
        seen[spec.name.lower()] = spec.path
    return PluginConfig(
        env_name=env_name,
        project_dir=project_dir,
        build_dir=build_dir,
        board=board,
        models=specs,
        options=opts,
        kernels=choose_kernels(
            board=board.board_id or "native", cpu=board.cpu, mcu=board.mcu, option=opts.kernels
        ),
        workspace_dir=workspace_dir,
    )
