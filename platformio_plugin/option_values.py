"""Parsers for the raw strings PlatformIO hands over for `custom_tinyml_*` options: each
takes the text and returns the typed value, or raises ValueError saying what was expected
(the options table turns that into a ConfigError naming the env, the key and a fix)."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, Callable


def split_list(raw: str) -> tuple[str, ...]:
    """PlatformIO style: one item per line; commas also separate items."""
    items: list[str] = []
    for line in raw.replace("\r", "").split("\n"):
        items.extend(part.strip() for part in line.split(","))
    return tuple(item for item in items if item)


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "yes", "true", "on", "y"):
        return True
    if value in ("0", "no", "false", "off", "n", ""):
        return False
    raise ValueError("expected yes or no")


def parse_int(raw: str) -> int:
    return int(raw.strip().replace("_", ""))


def parse_positive_int(raw: str) -> int:
    value = parse_int(raw)
    if value <= 0:
        raise ValueError("expected a positive whole number")
    return value


def parse_non_negative_float(raw: str) -> float:
    value = float(raw.strip().rstrip("%"))
    if not value >= 0.0 or value == float("inf"):
        raise ValueError("expected a number >= 0")
    return value


def parse_shape(raw: str) -> tuple[int, ...]:
    """`1, 1, 28, 28`, `1x1x28x28`, `[1 1 28 28]` -> (1, 1, 28, 28): the one shape grammar
    (ini option and command line)."""
    text = raw.strip().strip("[]()").strip()
    parts = re.split(r"\s*[,x]\s*|\s+", text) if text else []
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError("expected dimensions such as 1, 1, 28, 28")
    dims = tuple(int(p) for p in parts)
    if any(d <= 0 for d in dims):
        raise ValueError("every dimension must be a positive whole number")
    return dims


def parse_json_object(raw: str) -> dict[str, Any]:
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict):
        raise ValueError('expected a JSON object such as {"num_classes": 10}')
    return value


def parse_model_class(raw: str) -> str:
    text = raw.strip()
    path, sep, name = text.rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise ValueError("expected path/to/file.py:ClassName")
    return text


def choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return value

    parse.__name__ = "one of " + " | ".join(choices)
    return parse


def optimization_flag(raw: str) -> str:
    value = raw.strip()
    if value.upper() not in ("-O1", "-O2", "-O3", "-OS", "-OFAST"):
        raise ValueError("expected one of -O1, -O2, -O3, -Os, -Ofast")
    return "-O" + value[2:].lower() if value[2:].lower() in ("s", "fast") else value.upper()


def library_flags(raw: str) -> tuple[str, ...]:
    """Compiler flags as a shell would split them; not -O or -std= (the library sets those:
    custom_tinyml_kernel_optimization chooses the kernels' level)."""
    try:
        flags = tuple(shlex.split(raw))
    except ValueError as exc:  # an unclosed quote
        raise ValueError(f"cannot split into flags: {exc}") from None
    for flag in flags:
        if flag.startswith(("-O", "-std=")):
            raise ValueError(
                f"{flag} is set by the plugin (use custom_tinyml_kernel_optimization for -O)"
            )
    return flags


def text(raw: str) -> str:
    return raw.strip()
