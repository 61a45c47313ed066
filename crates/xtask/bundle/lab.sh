#!/usr/bin/env bash
# JupyterLab on notebooks/ with the Rust kernel (run ./setup.sh once first).
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/jupyter ] || { echo "lab: run ./setup.sh first" >&2; exit 1; }
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || extra+=(--no-browser)
JUPYTER_PATH="$(pwd)/.venv/share/jupyter" exec .venv/bin/jupyter lab \
  --MappingKernelManager.default_kernel_name=rust --ServerApp.root_dir="$(pwd)/notebooks" "${extra[@]}"
