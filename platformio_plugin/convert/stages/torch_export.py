"""PyTorch model (.pth/.pt state_dict, TorchScript .pt, torch.export .pt2) -> ONNX."""

from __future__ import annotations

import contextlib
import importlib.util
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterator

from ...errors import (
    ConfigError,
    ConversionError,
    ModelClassError,
    ModelFileError,
    TinyMLError,
    UntrustedModelError,
)

OPSET = 17


def _kind(path: Path) -> str:
    """'torchscript', 'exported', 'pickle' (zip or legacy pickle container)."""
    if path.suffix == ".pt2":
        return "exported"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
            return "torchscript"
        return "pickle"
    with path.open("rb") as fh:
        head = fh.read(2)
    if head[:1] == b"\x80":
        return "pickle"
    raise ModelFileError(
        f"{path} is not a PyTorch file (neither a zip archive nor a torch pickle).",
        "Save the model with torch.save(model.state_dict(), path), torch.jit.save or "
        "torch.export.save.",
    )


def _load_class(spec: str) -> type:
    file_part, sep, cls_name = spec.rpartition(":")
    if not sep or not file_part or not cls_name:
        raise ModelClassError(
            f"Model class {spec!r} is not of the form path/to/file.py:ClassName.",
            "Example: models/edge_model.py:EdgeNet",
        )
    file = Path(file_part)
    if not file.is_file():
        raise ModelClassError(
            f"Model class file {file} does not exist (from {spec!r}).",
            "Give the path of the .py file that defines the nn.Module.",
        )
    mod_name = f"tinyml_user_model_{file.stem}"
    mod_spec = importlib.util.spec_from_file_location(mod_name, file)
    assert mod_spec is not None and mod_spec.loader is not None
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[mod_name] = module
    sys.path.insert(0, str(file.parent))
    try:
        mod_spec.loader.exec_module(module)
    except Exception as exc:  # the user's file: report, don't trace
        raise ModelClassError(
            f"Importing {file} failed: {type(exc).__name__}: {exc}",
            "Fix the model file so that it imports on its own.",
        ) from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        names = [n for n, v in vars(module).items() if isinstance(v, type)]
        raise ModelClassError(
            f"{file} has no class {cls_name}.",
            f"Classes defined there: {', '.join(sorted(names)) or 'none'}.",
        )
    return cls  # type: ignore[no-any-return]


class _PickleRefused(BaseException):
    """Not an Exception: torch's own ``except Exception`` fallbacks must not swallow it."""


@contextlib.contextmanager
def _unpickling_refused(path: Path, *, trusted: bool) -> Iterator[None]:
    """torch.export.load unpickles parts of a .pt2 the file itself marks as pickled
    (``use_pickle`` payloads, opaque constants, legacy weights) with ``weights_only=False``:
    code from the file would run. Untrusted, every such unpickling is refused; tensors
    stored as raw bytes (what torch.export.save writes) load as before."""
    if trusted:
        yield
        return
    import torch

    real_load = torch.load

    def safe_load(*args: Any, **kwargs: Any) -> Any:
        kwargs["weights_only"] = True  # torch's restricted unpickler: tensors only
        try:
            return real_load(*args, **kwargs)
        except pickle.UnpicklingError:
            raise _PickleRefused() from None

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise _PickleRefused()

    saved = (torch.load, pickle.loads, pickle.load, torch._C._pickle_load_obj)
    torch.load, pickle.loads, pickle.load = safe_load, refuse, refuse
    torch._C._pickle_load_obj = refuse
    try:
        yield
    except _PickleRefused:
        raise UntrustedModelError(
            f"{path} holds pickled objects; loading them would run arbitrary code from the file.",
            "Export the model again with torch.export.save (plain tensors), or, only for a file "
            "you trust, set custom_tinyml_trust_pickle = yes (CLI: --trust-pickle).",
        ) from None
    finally:
        torch.load, pickle.loads, pickle.load, torch._C._pickle_load_obj = saved


def _state_dict_of(obj: Any) -> Any:
    import torch

    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    return None


def _instantiate(request: dict[str, Any], model_path: Path, state: Any) -> Any:
    import torch

    spec = request.get("model_class")
    if not spec:
        raise ModelClassError(
            f"{model_path} is a state_dict; pio-tinyml needs the model class to export it.",
            f"Put the class in {model_path.with_suffix('.py')}, or set "
            "custom_tinyml_model_class = path/to/file.py:ClassName (CLI: --model-class).",
        )
    cls = _load_class(spec)
    try:
        model = cls(**dict(request.get("model_kwargs") or {}))
    except Exception as exc:
        raise ModelClassError(
            f"Creating {spec}({request.get('model_kwargs') or ''}) failed: "
            f"{type(exc).__name__}: {exc}",
            "Pass the constructor arguments (custom_tinyml_model_kwargs).",
        ) from None
    if not isinstance(model, torch.nn.Module):
        raise ModelClassError(f"{spec} is not a torch.nn.Module.", "")
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # same keys, other shapes: say which
        sizes = [ln.strip() for ln in str(exc).splitlines() if "size mismatch" in ln]
        detail = (
            "; ".join(sizes[:4]) + (" ..." if len(sizes) > 4 else "")
            if sizes
            else (str(exc).splitlines()[0])
        )
        raise ModelClassError(
            f"{model_path} does not match {spec}: {detail}",
            "Use the class (and constructor arguments, "
            "custom_tinyml_model_kwargs) the weights were trained with.",
        ) from None
    missing, unexpected = list(result.missing_keys), list(result.unexpected_keys)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
        if unexpected:
            parts.append(
                f"unexpected {', '.join(unexpected[:8])}{' ...' if len(unexpected) > 8 else ''}"
            )
        raise ModelClassError(
            f"{model_path} does not match {spec}: {'; '.join(parts)}.",
            "Use the class (and constructor arguments) the weights were trained with.",
        )
    return model


def _need_shape(request: dict[str, Any], path: Path) -> tuple[int, ...]:
    shape = request.get("input_shape")
    if not shape:
        raise ConfigError(
            f"{path}: the input shape cannot be read from this model file.",
            "Set custom_tinyml_input_shape (CLI: --input-shape), e.g. 1,1,28,28, in the "
            "model's own layout with batch 1.",
        )
    return tuple(int(d) for d in shape)


def load_model(request: dict[str, Any]) -> tuple[Any, tuple[int, ...], str, Any]:
    """(module in eval mode, input shape, kind, the ExportedProgram of a .pt2 or None) of
    ``request["model"]``, after one run on zeros of that shape. Shared by both PyTorch routes
    (ONNX here, LiteRT Torch in :mod:`.litert_torch_export`)."""
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    path = Path(request["model"])
    kind = _kind(path)
    shape: tuple[int, ...]
    program: Any = None
    try:
        if kind == "torchscript":
            model = torch.jit.load(str(path), map_location="cpu")
            shape = _need_shape(request, path)
        elif kind == "exported":
            with _unpickling_refused(path, trusted=bool(request.get("trust_pickle"))):
                program = torch.export.load(str(path))
            example = [
                n
                for n in program.graph.nodes
                if n.op == "placeholder" and n.name in program.graph_signature.user_inputs
            ]
            found = tuple(int(d) for d in example[0].meta["val"].shape) if example else None
            shape = tuple(int(d) for d in request.get("input_shape") or found or ())
            if not shape:
                shape = _need_shape(request, path)
            model = program.module()
        else:
            try:
                obj = torch.load(str(path), map_location="cpu", weights_only=True)
            except pickle.UnpicklingError:
                if not request.get("trust_pickle"):
                    raise UntrustedModelError(
                        f"{path} is a whole pickled model; loading it would run arbitrary code "
                        "from the file.",
                        "Save a state_dict instead (torch.save(model.state_dict(), path)) plus "
                        "the model class, or, only for a file you trust, set "
                        "custom_tinyml_trust_pickle = yes (CLI: --trust-pickle).",
                    ) from None
                if request.get("model_class"):
                    _load_class(request["model_class"])  # make its classes importable
                obj = torch.load(str(path), map_location="cpu", weights_only=False)
            if isinstance(obj, torch.nn.Module):
                model = obj
            else:
                state = _state_dict_of(obj)
                if state is None:
                    raise ModelFileError(
                        f"{path} holds a {type(obj).__name__}, not a model or a state_dict.",
                        "Save torch.save(model.state_dict(), path).",
                    )
                model = _instantiate(request, path, state)
            shape = _need_shape(request, path)
    except TinyMLError:
        raise
    except Exception as exc:  # whatever torch raises for a damaged file: report, don't trace
        raise ModelFileError(
            f"{path} cannot be read as a PyTorch model: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            "Check that the file is complete and was written by torch.save, "
            "torch.jit.save or torch.export.save.",
        ) from None
    if kind != "exported":  # an ExportedProgram's module is fixed at export time
        model.eval()
    with torch.no_grad():
        try:
            model(torch.zeros(shape, dtype=torch.float32))
        except Exception as exc:
            raise ModelClassError(
                f"{path}: running the model on an input of shape {tuple(shape)} failed: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                "Check the input shape (model's own layout, batch 1) and the model class.",
            ) from None
    return model, shape, kind, program


def run(request: dict[str, Any]) -> dict[str, Any]:
    import torch

    model, shape, kind, program = load_model(request)
    path, out = Path(request["model"]), Path(request["out_onnx"])
    dummy = torch.zeros(shape, dtype=torch.float32)
    try:
        with torch.no_grad():
            _export_onnx(torch, model, program, kind, dummy, out)
    except Exception as exc:  # an op the exporter has no ONNX form for: the route's limit
        text = str(exc).strip()
        raise ConversionError(
            f"{path.name}: PyTorch -> ONNX export failed: {type(exc).__name__}: "
            f"{text.splitlines()[0][:300] if text else ''}",
            "Set custom_tinyml_frontend = litert-torch (CLI: --frontend litert-torch), or "
            "replace the op it names in the model.",
        ) from None
    return {"format": kind, "input_shape": list(shape)}


def _export_onnx(torch: Any, model: Any, program: Any, kind: str, dummy: Any, out: Path) -> None:
    if kind == "exported":
        # An ExportedProgram only goes through the dynamo exporter.
        torch.onnx.export(
            program,
            (dummy,),
            str(out),
            dynamo=True,
            external_data=False,
            optimize=True,
            verbose=False,
        )
    else:
        torch.onnx.export(
            model,
            (dummy,),
            str(out),
            dynamo=False,
            opset_version=OPSET,
            input_names=["input"],
            output_names=["output"],
            do_constant_folding=True,
        )
