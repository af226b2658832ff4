# Sourced by the other scripts: the environment every project-run `pio` uses.
# shellcheck shell=bash
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
export PLATFORMIO_CORE_DIR="$REPO_ROOT/.pio-core"
export PLATFORMIO_DISABLE_UPGRADE_CHECK=true
export PLATFORMIO_SETTING_ENABLE_TELEMETRY=No
export PATH="$REPO_ROOT/.venv/bin:$PATH"
