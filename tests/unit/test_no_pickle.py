"""Untrusted model files never reach an unpickler without the explicit trust option.

The inspection walks every module of the package for calls that can unpickle (pickle,
torch.load, torch.export.load, numpy.load, joblib/dill/marshal) and accepts each only with
the guard that makes it safe. tests/convert/test_pickle_cli.py runs the CLI on files whose
unpickling creates a marker file, untrusted (nothing runs) and trusted (it runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "platformio_plugin"
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "marshal", "shelve",
                  "cloudpickle"}  # fmt: skip


def _calls(tree: ast.AST) -> list[tuple[ast.Call, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found.append((node, ast.unparse(node.func)))
    return found


def _kw(call: ast.Call, name: str) -> object:
    for kw in call.keywords:
        if kw.arg == name:
            return ast.literal_eval(kw.value) if isinstance(kw.value, ast.Constant) else "expr"
    return None


@pytest.mark.unit
def test_every_unpickling_call_is_guarded() -> None:
    unguarded: list[str] = []
    trusted_loads = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        where = path.relative_to(PACKAGE.parent).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names]
                module = node.module if isinstance(node, ast.ImportFrom) else None
                for name in [module, *names]:
                    if name and name.split(".")[0] in UNSAFE_MODULES - {"pickle"}:
                        unguarded.append(f"{where}:{node.lineno}: imports {name}")
        for call, func in _calls(tree):
            line = f"{where}:{call.lineno}: {func}(...)"
            if func.startswith("pickle.") and func.split(".")[1] in ("load", "loads", "Unpickler"):
                unguarded.append(line)
            elif func in ("torch.load", "torch.jit.load"):
                if func == "torch.load" and _kw(call, "weights_only") is not True:
                    trusted_loads.append((path, call))
            elif func in ("np.load", "numpy.load") and _kw(call, "allow_pickle") not in (
                None,
                False,
            ):
                unguarded.append(line + " with allow_pickle")  # numpy's default is False
            elif func == "torch.export.load" and "_unpickling_refused" not in source:
                unguarded.append(line + " without _unpickling_refused")
    assert unguarded == []
    # The one torch.load that may unpickle: only after refusing when trust was not given.
    assert len(trusted_loads) == 1, trusted_loads
    path, call = trusted_loads[0]
    assert path.name == "torch_export.py" and _kw(call, "weights_only") is False
    functions = [
        f for f in ast.walk(ast.parse(path.read_text()))
        if isinstance(f, ast.FunctionDef) and f.lineno <= call.lineno <= (f.end_lineno or 0)
    ]  # fmt: skip
    function = min(functions, key=lambda f: (f.end_lineno or 0) - f.lineno)
    guard = next(
        n for n in ast.walk(function)
        if isinstance(n, ast.If) and "trust_pickle" in ast.unparse(n.test)
        and ast.unparse(n.test).startswith("not ") and isinstance(n.body[0], ast.Raise)
    )  # fmt: skip
    assert guard.lineno < call.lineno
    # Every torch.export.load runs inside the guard.
    export_source = path.read_text()
    assert (
        'with _unpickling_refused(path, trusted=bool(request.get("trust_pickle"))):\n'
        "                program = torch.export.load(" in export_source
    )
