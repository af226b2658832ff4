"""The one import surface for scripts, the command line and integration tests.

    from platformio_plugin import api
    api.run(env, projenv)                 # the pre-build hook (SCons side)
    config = api.load_config(...)         # options + board -> PluginConfig
    prepared = api.prepare_env(config, core_dir=..., log=print)
    result = api.convert_model(api.ConversionRequest(...), core_dir=..., log=print)

Names load lazily, so importing this module costs nothing on a no-change build.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "errors": ("", "errors"),
    "BoardSpec": ("config", "BoardSpec"),
    "PluginConfig": ("config", "PluginConfig"),
    "board_spec": ("config", "board_spec"),
    "load_config": ("config", "load_config"),
    "convert_model": ("convert.conversion", "convert_model"),
    "default_core_dir": ("convert.environment", "default_core_dir"),
    "ensure_converter_python": ("convert.environment", "ensure_converter_python"),
    "ConversionRequest": ("convert.protocol", "ConversionRequest"),
    "ConversionResult": ("convert.protocol", "ConversionResult"),
    "Options": ("options", "Options"),
    "parse_options": ("options", "parse_options"),
    "prepare_env": ("pipeline", "prepare_env"),
    "PreparedEnv": ("results", "PreparedEnv"),
    "PreparedModel": ("results", "PreparedModel"),
    "run": ("scons.hook", "run"),
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _WHERE[name]
    if not module:
        return importlib.import_module(f"{__package__}.{attr}")
    return getattr(importlib.import_module(f"{__package__}.{module}"), attr)
