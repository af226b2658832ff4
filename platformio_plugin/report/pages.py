"""Where the HTML page of each model goes, and writing them for an env."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .. import files
from ..config import PluginConfig
from ..results import PreparedEnv
from .html import render_model_html
from .parsed import Parsed, parsed_models


def report_path(config: PluginConfig, model_name: str) -> Path:
    """`.pio/tinyml-reports/<env>/<model>.html`"""
    return config.reports_dir / f"{model_name}.html"


def write_reports(
    config: PluginConfig, prepared: PreparedEnv, parsed: Optional[Parsed] = None
) -> list[Path]:
    """One HTML page per model (rewritten only when its content changed); pages of
    models the env no longer has are removed."""
    from .text import probe_result

    probed = probe_result(config)
    paths = []
    for model, tflite in parsed_models(prepared, parsed):
        page = render_model_html(
            model,
            tflite,
            env_name=config.env_name,
            board=config.board,
            kernels=prepared.kernels,
            runtime_flash=int(probed.get("runtime_flash") or config.options.runtime_flash),
            runtime_ram=config.options.runtime_ram,
            measured=probed.get("models", {}).get(model.name),
            core=str(probed.get("core", "")),
        )
        path = report_path(config, model.name)
        files.write_if_changed(path, page)
        paths.append(path)
    for stale in sorted(config.reports_dir.glob("*.html")):
        if stale not in paths:
            stale.unlink()
    return paths
