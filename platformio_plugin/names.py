"""C++ names of models: a model file's stem is the name of its struct and header."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import ConfigError

CPP_KEYWORDS = frozenset(
    [
        "alignas",
        "alignof",
        "and",
        "and_eq",
        "asm",
        "auto",
        "bitand",
        "bitor",
        "bool",
        "break",
        "case",
        "catch",
        "char",
        "char8_t",
        "char16_t",
        "char32_t",
        "class",
        "compl",
        "concept",
        "const",
        "consteval",
        "constexpr",
        "constinit",
        "const_cast",
        "continue",
        "co_await",
        "co_return",
        "co_yield",
        "decltype",
        "default",
        "delete",
        "do",
        "double",
        "dynamic_cast",
        "else",
        "enum",
        "explicit",
        "export",
        "extern",
        "false",
        "float",
        "for",
        "friend",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "mutable",
        "namespace",
        "new",
        "noexcept",
        "not",
        "not_eq",
        "nullptr",
        "operator",
        "or",
        "or_eq",
        "private",
        "protected",
        "public",
        "register",
        "reinterpret_cast",
        "requires",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "static_assert",
        "static_cast",
        "struct",
        "switch",
        "template",
        "this",
        "thread_local",
        "throw",
        "true",
        "try",
        "typedef",
        "typeid",
        "typename",
        "union",
        "unsigned",
        "using",
        "virtual",
        "void",
        "volatile",
        "wchar_t",
        "while",
        "xor",
        "xor_eq",
    ]
)
# Headers and names of the runtime in namespace tinyml (src/tinyml/, generated models.h).
RUNTIME_NAMES = frozenset(
    {"model", "models", "golden", "debug_log", "format", "Model", "run_golden", "log_line"}
    | {"model_base", "aot_model", "ModelBase", "InterpreterModel", "AotModel"}
    | {"detail", "vformat"}
    | {"quantize_int8", "element_count"}
)
RUNTIME_WHERE = "src/tinyml/ of pio-tinyml, or the generated tinyml/models.h"


def c_identifier(stem: str) -> str:
    """A model file stem as a C/C++ identifier (struct and header name): the stem as
    written, other characters as `_`, `m_` before a leading digit."""
    ident = re.sub(r"\W", "_", stem, flags=re.ASCII).strip("_")
    return "m_" + ident if ident[:1].isdigit() else ident


def check_cpp_name(name: str, path: Path, env_name: str) -> None:
    """Refuse a model whose C++ name would not compile or would collide with the runtime."""
    if not name:
        why = "has no letter or digit to make a C++ name from"
    elif name in CPP_KEYWORDS:
        why = f"would become `tinyml::{name}`, but `{name}` is a C++ keyword"
    elif name in RUNTIME_NAMES:
        why = f"would become `tinyml::{name}`, a name of the runtime ({RUNTIME_WHERE})"
    else:
        return
    raise ConfigError(
        f"Model file {path.name} in [env:{env_name}] {why}.",
        "Rename the file (its stem is the C++ name: edge_model.tflite -> tinyml::edge_model).",
    )
