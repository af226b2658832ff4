# Sourced by the other scripts: the environment every project-run `pio` uses.
# shellcheck shell=bash
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
export PLATFORMIO_CORE_DIR="$REPO_ROOT/.pio-core"
export PLATFORMIO_DISABLE_UPGRADE_CHECK=true
export PLATFORMIO_SETTING_ENABLE_TELEMETRY=No
export PATH="$REPO_ROOT/.venv/bin:$PATH"
# The pinned TFLM / CMSIS-NN trees, when a `shared/tflm-sources` folder lies beside the checkout
# and no other sources are configured (the product's own lookup order is unchanged for users).
_shared_sources="$REPO_ROOT/../shared/tflm-sources"
if [[ -z "${PIO_TINYML_SOURCES:-}" && ! -d "$HOME/.pio-tinyml/sources" \
      && -n "$(compgen -G "$_shared_sources/tflite-micro-*" || true)" ]]; then
  PIO_TINYML_SOURCES="$(cd "$_shared_sources" && pwd)"
  export PIO_TINYML_SOURCES
fi
unset _shared_sources
